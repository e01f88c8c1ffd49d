/*
 * replay_main.c - a main() for a fuzz target without libFuzzer.
 *
 * Linked with one fuzz_<target>.c, it calls LLVMFuzzerTestOneInput() once
 * with every regular file in the directories (or with the files) named on
 * its command line, in the order readdir gives, and exits 0 when every
 * call returns. A crash, a sanitizer report or a failed FUZZ_CHECK ends
 * the process with the input's name printed just before, which is the
 * test failure. CTest runs it over tests/fuzz/corpus/<target>/ and
 * tests/fuzz/regressions/<target>/ in every build (labels "unit"), so that
 * a bug the fuzzer once found stays fixed without clang or libFuzzer; it
 * is plain C and also runs under valgrind.
 *
 * Each file is read into a buffer of exactly its size, as libFuzzer does,
 * so that AddressSanitizer sees a read past the end of an input.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

/* Runs the target on the file at path; returns 1 when it was a file. */
static int replay_file(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf || fread(buf, 1, n, f) != n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    fclose(f);
    fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 1;
}

int main(int argc, char **argv) {
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            files += replay_file(argv[i]);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            files += replay_file(path);
        }
        closedir(d);
    }
    printf("%d inputs replayed\n", files);
    return 0;
}
