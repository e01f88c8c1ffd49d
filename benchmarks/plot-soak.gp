# The soak plot, written by benchmarks/e2e/plots.py (render_soak_plot):
#   gnuplot -e "datadir='DIR'; outdir='DIR'; stem='latest'; warmup=M" \
#     benchmarks/plot-soak.gp
# Reads DIR/soak.dat (minutes rss_mib state_mib committed_lag) and writes
# OUTDIR/STEM-soak.png; a line marks the end of the warm-up (M minutes).

set terminal pngcairo size 760,420 font "sans,10" noenhanced
set output outdir."/".stem."-soak.png"
if (!exists("ttl")) ttl = "Soak: memory and lag over time (flat and bounded is the goal)"
set title ttl
set grid ytics lc rgb "#dddddd"
set border 11
set xlabel "minutes since the load started"
set ylabel "MiB"
set y2label "committed lag (records)"
set xtics nomirror
set ytics nomirror
set y2tics
set yrange [0:*]
set autoscale xfixmax
set y2range [0:*]
set format y "%.0f"
set format y2 "%.0f"
set key top left
set arrow from warmup, graph 0 to warmup, graph 1 nohead dt 2 lc rgb "#888888"
plot datadir."/soak.dat" using 1:2 with linespoints pt 7 ps 0.4 lc rgb "#4477aa" title "repute RSS", \
     "" using 1:3 with lines lc rgb "#228833" title "engine state (accounts + dedupe)", \
     "" using 1:4 axes x1y2 with lines lc rgb "#ee6677" title "committed lag"
