package org.ioatom.perf;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link DispatchBenchmark} over the valid (impl, R, N) combinations, competitors
 * interleaved: each round runs every impl for one case before the next case, and the impl order
 * rotates from case to case and reverses from round to round; then the scale case (R=64 with
 * 100 vs 10 000 idle atoms, ioatom epoll and poll). Three rounds (--quick: one, a subset of the
 * cases, shorter iterations). Writes one TSV line per run.
 *
 * <p>Usage: {@code DispatchRun OUT.tsv [--quick]}
 */
public final class DispatchRun {
    private DispatchRun() {}

    static final String[] IMPLS = {"ioatom-epoll", "ioatom-poll", "ioatom-select", "nio-iter", "nio-consumer"};
    /** {R, N}; 64/512 is there so that select (fds below FD_SETSIZE only) has a point too. */
    static final int[][] CASES = {{1, 1024}, {64, 1024}, {1024, 1024}, {64, 10_000}, {64, 512}};

    /**
     * Scale case: the same R=64 ready with 100 vs 10 000 idle atoms registered besides them, run
     * back to back per backend (the order of the two reverses from round to round).
     */
    static final String[] SCALE_IMPLS = {"ioatom-epoll", "ioatom-poll"};
    static final int[][] SCALE_CASES = {{64, 164}, {64, 10_064}};

    /** --quick: the R=64 cases only, and nio-consumer as the java.nio peer (nio-iter is left out). */
    static final int[][] QUICK_CASES = {{64, 1024}, {64, 10_000}, {64, 512}};

    static boolean valid(String impl, int n) {
        // N eventfds + JVM fds + the waker must fit under FD_SETSIZE=1024 for select.
        return !impl.equals("ioatom-select") || n + 64 <= 1024;
    }

    static String method(String impl) {
        return switch (impl) {
            case "nio-iter" -> "nioIter";
            case "nio-consumer" -> "nioConsumer";
            default -> "ioatom";
        };
    }

    public static void main(String[] args) throws IOException, RunnerException {
        Path out = Path.of(args[0]);
        Path allocFile = Path.of(args[0].replaceAll("\\.tsv$", "") + "-thread-alloc.tsv").toAbsolutePath();
        Files.deleteIfExists(allocFile);
        boolean quick = args.length > 1 && args[1].equals("--quick");
        int rounds = quick ? 1 : 3;
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out))) {
            w.println("round\timpl\tready\tregistered\tns_op\tns_op_err\tns_event\tbytes_op");
            for (int round = 0; round < rounds; round++) {
                int[][] cases = quick ? QUICK_CASES : CASES;
                for (int c = 0; c < cases.length; c++) {
                    int r = cases[c][0];
                    int n = cases[c][1];
                    List<String> order = new ArrayList<>();
                    for (int i = 0; i < IMPLS.length; i++) {
                        String impl = IMPLS[(i + c) % IMPLS.length];
                        if (!quick || !impl.equals("nio-iter")) {
                            order.add(impl);
                        }
                    }
                    if (round % 2 == 1) {
                        java.util.Collections.reverse(order);
                    }
                    for (String impl : order) {
                        if (!valid(impl, n)) {
                            System.out.println("# skip " + impl + " R=" + r + " N=" + n + ": fds above FD_SETSIZE");
                            w.printf("%d\t%s\t%d\t%d\tNA\tNA\tNA\tNA%n", round, impl, r, n);
                            continue;
                        }
                        runOne(w, round, impl, r, n, quick, allocFile);
                    }
                }
                // scale: 100 vs 10 000 idle atoms besides the same 64 ready ones
                for (int i = 0; i < SCALE_IMPLS.length; i++) {
                    String impl = SCALE_IMPLS[(i + round) % SCALE_IMPLS.length];
                    for (int k = 0; k < SCALE_CASES.length; k++) {
                        int[] rn = SCALE_CASES[round % 2 == 0 ? k : SCALE_CASES.length - 1 - k];
                        runOne(w, round, impl, rn[0], rn[1], quick, allocFile);
                    }
                }
            }
        }
    }

    private static void runOne(PrintWriter w, int round, String impl, int r, int n, boolean quick, Path allocFile)
            throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(DispatchBenchmark.class.getName() + "\\." + method(impl) + "$")
                .param("impl", impl)
                .param("ready", Integer.toString(r))
                .param("registered", Integer.toString(n))
                .forks(1)
                .warmupIterations(2)
                .warmupTime(TimeValue.milliseconds(quick ? 300 : 1000))
                .measurementIterations(quick ? 3 : 4)
                .measurementTime(TimeValue.milliseconds(quick ? 300 : 1000))
                .timeout(TimeValue.seconds(60))
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-XX:+UseParallelGC",
                        "-Dioatom.perf.allocFile=" + allocFile)
                .addProfiler(GCProfiler.class);
        Collection<RunResult> results = new Runner(o.build()).run();
        for (RunResult rr : results) {
            Result<?> p = rr.getPrimaryResult();
            Result<?> norm = rr.getSecondaryResults().get("gc.alloc.rate.norm");
            double nsOp = p.getScore();
            double err = p.getScoreError();
            w.printf(Locale.ROOT, "%d\t%s\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.3f%n", round, impl, r, n, nsOp,
                    Double.isNaN(err) ? 0.0 : err, nsOp / r, norm == null ? Double.NaN : norm.getScore());
            w.flush();
        }
    }
}
