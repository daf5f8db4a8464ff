# Dispatch cost per event by case and implementation; perf/run fills datafile and outfile.
set terminal svg size 900,480 dynamic font "sans,11"
set output outfile
set title "wait + dispatch cost per ready event (lower is better)"
set ylabel "ns per event"
set logscale y
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics nomirror
plot for [i=2:*] datafile using i:xtic(1) title columnhead(i)
