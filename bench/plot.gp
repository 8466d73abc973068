# bench/plot.gp - throughput against threads, one line per variant, from a
# rundown-bench TSV (columns: variant threads ns_per_pair mpairs_total
# ns_min ns_max mpairs_min mpairs_max ...).  Error bars: min-max over reps.
#   gnuplot -e "tsv='bench/results/latest.tsv'; png='bench/results/latest.png'" bench/plot.gp
if (!exists("tsv")) tsv = 'bench/results/latest.tsv'
if (!exists("png")) png = 'bench/results/latest.png'

# Variants in file order, each once.
variants = system("awk -F'\t' 'NR > 1 && !seen[$1]++ { printf \"%s \", $1 }' '".tsv."'")
hold = system("awk -F'\t' 'NR == 2 { printf \"%s\", $9 }' '".tsv."'")
maxt = system("awk -F'\t' 'NR > 1 && $2 > m { m = $2 } END { print m + 0 }' '".tsv."'")

set terminal pngcairo size 1000,650 font ",10" noenhanced
set output png
set datafile separator "\t"
set title sprintf("rundown-bench: Acquire+Release pairs, all threads together (hold %s ns; median, bars min-max)", hold)
set xlabel "threads (pinned)"
set ylabel "million pairs per second (log scale)"
set logscale y
set xrange [0.8:maxt + 0.2]
set xtics 1
set grid ytics mytics xtics
set key outside right top
set style data linespoints

# One data stream per variant (a filter keeps its points joined by lines).
rows(v) = sprintf("< awk -F'\t' 'NR > 1 && $1 == \"%s\"' '%s'", v, tsv)
plot for [v in variants] rows(v) using 2:4:7:8 with yerrorlines title v
