# Wall-clock helpers shared by lab.sh and bench.sh (sourced, not run).

now_ms() {
  local ns
  ns=$(date +%s%N)
  echo $((ns / 1000000))
}

# Milliseconds since $1, as seconds with one decimal.
elapsed() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}
