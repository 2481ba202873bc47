#!/usr/bin/env bash
# Plots several sweep TSVs (from sweep.sh) together:
#   bash bench/macro/plot_sweeps.sh OUT_PREFIX LABEL=FILE.tsv [LABEL=FILE.tsv ...]
# writes OUT_PREFIX-throughput.png (achieved vs offered) and
# OUT_PREFIX-latency.png (p50 and p99 vs achieved).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
prefix=$1
shift
through="" latency="" sep="" color=0
for pair in "$@"; do
  color=$((color + 1))
  label=${pair%%=*} file=$(realpath "${pair#*=}")
  through+="$sep'$file' using 1:2 with linespoints linewidth 2 linecolor $color title '$label'"
  latency+="$sep'$file' using 2:5 with linespoints linewidth 2 linecolor $color title '$label p99'"
  latency+=", '$file' using 2:3 with linespoints dashtype 2 linecolor $color title '$label p50'"
  sep=", "
done
gnuplot <<GP
set terminal pngcairo size 1150,560 noenhanced
set grid
set key outside right top
set logscale xy
set output '$prefix-throughput.png'
set title 'Authorizations decided in time (approved or declined; 9xx failures excluded) vs offered, open loop'
set xlabel 'offered authorizations/s'
set ylabel 'decided authorizations/s'
plot $through, x with lines dashtype 3 linecolor rgb 'gray' title 'achieved = offered'
set output '$prefix-latency.png'
set title 'Latency from the intended send time vs achieved rate'
set xlabel 'achieved authorizations/s'
set ylabel 'latency (us)'
plot $latency
GP
echo "wrote $prefix-throughput.png $prefix-latency.png"
