# Echo and RESP comparisons of one perf/run; perf/run fills echofile, respfile and outfile
# (the data files are written by perf/report.py).
set terminal svg size 1200,520 dynamic font "sans,11"
set output outfile
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics nomirror
set key top left
set multiplot layout 1,2
set title "echo: server CPU per message (lower is better)"
set ylabel "CPU ns per message"
set yrange [0:*]
plot for [i=2:*] echofile using i:xtic(1) title columnhead(i)
set title "RESP: requests/s, median of rounds (higher is better)"
set ylabel "requests per second"
set logscale y
set format y "%.0s%c"
set xlabel "-P, test"
set yrange [*:*]
plot for [i=2:*] respfile using i:xtic(1) title columnhead(i)
unset multiplot
