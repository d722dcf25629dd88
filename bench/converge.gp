# Converge time against VIP count: the operator and both anchors (bench/run.sh writes the data).
# gnuplot -e "datafile='bench/results/converge.dat'; outfile='bench/converge.svg'" bench/converge.gp
set terminal svg size 800,500 dynamic font "sans,12"
set output outfile
set title "Converge N VIPs into an empty namespace (addresses + host routes + ARP sysctls), median"
set xlabel "VIPs"
set ylabel "wall time (ms)"
set logscale xy
set grid
set key top left
plot datafile using 1:2 with linespoints lw 2 title "lvs-rs-operator run --once", \
     datafile using 1:3 with linespoints lw 2 title "ip -batch (anchor)", \
     datafile using 1:4 with linespoints lw 2 title "ip addr add + ip route add per VIP (anchor)"
