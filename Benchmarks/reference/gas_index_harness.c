/*
 * Timing harness for Sensirion's gas index algorithm (C, float build), for scripts/bench.
 *
 * Sensirion's code is not part of this repository: scripts/bench downloads the source
 * distribution of sensirion-gas-index-algorithm 3.2.2 from PyPI into a temporary
 * directory and compiles this file with its swig/sensirion_gas_index_algorithm.c:
 *
 *     gcc -O2 -I SWIG_DIR gas_index_harness.c SWIG_DIR/sensirion_gas_index_algorithm.c -lm
 *
 * Usage: harness SRAW_FILE OUT_FILE RUNS
 *   SRAW_FILE  little-endian int32 SRAW_VOC values, one per second (snuffel-bench prepare)
 *   OUT_FILE   the VOC index of every sample of the last run, int32
 * Prints "c_voc_median_s <seconds>" and "c_voc_best_s <seconds>": each run initialises a
 * fresh algorithm (GasIndexAlgorithm_init, VOC) and stores every index into a
 * preallocated array, as snuffel-bench gas-index does; the first run is discarded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sensirion_gas_index_algorithm.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s SRAW_FILE OUT_FILE RUNS\n", argv[0]);
        return 2;
    }
    int runs = atoi(argv[3]);
    if (runs < 1) {
        fprintf(stderr, "RUNS must be at least 1\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t n = (size_t)bytes / sizeof(int32_t);
    int32_t *sraw = malloc(n * sizeof(int32_t));
    int32_t *index = malloc(n * sizeof(int32_t));
    double *seconds = malloc((size_t)runs * sizeof(double));
    if (!sraw || !index || !seconds || fread(sraw, sizeof(int32_t), n, f) != n) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);

    for (int run = 0; run <= runs; run++) {
        GasIndexAlgorithmParams params;
        double t0 = now_seconds();
        GasIndexAlgorithm_init(&params, GasIndexAlgorithm_ALGORITHM_TYPE_VOC);
        for (size_t i = 0; i < n; i++) {
            GasIndexAlgorithm_process(&params, sraw[i], &index[i]);
        }
        double t1 = now_seconds();
        if (run > 0) seconds[run - 1] = t1 - t0;
    }
    qsort(seconds, (size_t)runs, sizeof(double), compare_doubles);
    double median = runs % 2 ? seconds[runs / 2] : (seconds[runs / 2 - 1] + seconds[runs / 2]) / 2;

    FILE *out = fopen(argv[2], "wb");
    if (!out || fwrite(index, sizeof(int32_t), n, out) != n) {
        perror(argv[2]);
        return 1;
    }
    fclose(out);
    printf("c_voc_median_s %.9f\nc_voc_best_s %.9f\nc_voc_samples %zu\n", median, seconds[0], n);
    free(sraw);
    free(index);
    free(seconds);
    return 0;
}
