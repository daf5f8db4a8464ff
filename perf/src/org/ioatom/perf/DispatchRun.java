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
 * rotates from case to case and reverses from round to round. Writes one TSV line per run.
 *
 * <p>Usage: {@code DispatchRun OUT.tsv [--quick]}
 */
public final class DispatchRun {
    private DispatchRun() {}

    static final String[] IMPLS = {"ioatom-epoll", "ioatom-poll", "ioatom-select", "nio-iter", "nio-consumer"};
    /** {R, N}; 64/512 is there so that select (fds below FD_SETSIZE only) has a point too. */
    static final int[][] CASES = {{1, 1024}, {64, 1024}, {1024, 1024}, {64, 10_000}, {64, 512}};

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
                for (int c = 0; c < CASES.length; c++) {
                    int r = CASES[c][0];
                    int n = CASES[c][1];
                    List<String> order = new ArrayList<>();
                    for (int i = 0; i < IMPLS.length; i++) {
                        order.add(IMPLS[(i + c) % IMPLS.length]);
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
                        ChainedOptionsBuilder o = new OptionsBuilder()
                                .include(DispatchBenchmark.class.getName() + "\\." + method(impl) + "$")
                                .param("impl", impl)
                                .param("ready", Integer.toString(r))
                                .param("registered", Integer.toString(n))
                                .forks(1)
                                .warmupIterations(quick ? 2 : 3)
                                .warmupTime(TimeValue.milliseconds(quick ? 400 : 1000))
                                .measurementIterations(quick ? 3 : 4)
                                .measurementTime(TimeValue.milliseconds(quick ? 400 : 1000))
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
            }
        }
    }
}
