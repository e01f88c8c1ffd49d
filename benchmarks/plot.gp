# Plots of one benchmark result, written by benchmarks/e2e/plots.py:
#   gnuplot -e "datadir='DIR'; outdir='DIR'; stem='latest'" benchmarks/plot.gp
# Reads DIR/throughput.dat, percore.dat ("label" value "shown"), latency.dat
# ("label" p50 p99 p999) and memory.dat ("label" repute_mib peer_mib) and
# writes OUTDIR/STEM-{throughput,percore,latency,memory}.png.

set terminal pngcairo size 760,420 font "sans,10" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.8
set grid ytics lc rgb "#dddddd"
set border 3
set xtics nomirror rotate by -20 scale 0
set ytics nomirror
set key top right
set format y "%.0f"

set output outdir."/".stem."-throughput.png"
set title "End-to-end throughput (records/s, higher is better)"
set ylabel "records / s"
set yrange [0:*]
plot datadir."/throughput.dat" using 2:xtic(1) lc rgb "#4477aa" notitle, \
     "" using 0:2:3 with labels offset 0,0.7 notitle

set output outdir."/".stem."-percore.png"
set title "Records per CPU-second of the processes (higher is better)"
set ylabel "records / CPU-second"
plot datadir."/percore.dat" using 2:xtic(1) lc rgb "#228833" notitle, \
     "" using 0:2:3 with labels offset 0,0.7 notitle

set output outdir."/".stem."-latency.png"
set title "Append-to-append latency of a status change (ms, log scale, lower is better)"
set ylabel "ms"
set logscale y
set yrange [1:*]
set format y "%g"
plot datadir."/latency.dat" using 2:xtic(1) title "p50" lc rgb "#66ccee", \
     "" using 3 title "p99" lc rgb "#4477aa", \
     "" using 4 title "p99.9" lc rgb "#222255"
unset logscale y

set output outdir."/".stem."-memory.png"
set title "Resident set size after processing (MiB, lower is better)"
set ylabel "MiB"
set yrange [0:*]
set format y "%.0f"
plot datadir."/memory.dat" using 2:xtic(1) title "repute" lc rgb "#4477aa", \
     "" using 3 title "Kafka Streams peer" lc rgb "#ee6677"
