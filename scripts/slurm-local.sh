#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm tests (and for trying `slurm submit`):
#   scripts/slurm-local.sh start   munged + slurmctld + slurmd; prints `SLURM_CONF=<file>` on success
#   scripts/slurm-local.sh stop    stops the three daemons it started, by pid
# Needs root and Debian's slurm-wlm + munge (.ci/run installs them). Everything it writes lives
# under $PTYCHO_SLURM_DIR (default /tmp/ptycho-slurm); clients find the cluster through
# SLURM_CONF=<dir>/slurm.conf. Exit 3 with one line on stderr when Slurm cannot run here.
set -uo pipefail

DIR="${PTYCHO_SLURM_DIR:-/tmp/ptycho-slurm}"
CONF="$DIR/slurm.conf"
MUNGE_KEY="$DIR/munge/munge.key"
MUNGE_SOCKET="$DIR/munge/munge.socket"

cannot() { echo "slurm-local: $*" >&2; exit 3; }

stop() {
  for name in slurmd slurmctld munged; do
    pidfile="$DIR/$name.pid"; [ "$name" = munged ] && pidfile="$DIR/munge/munged.pid"
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile" 2>/dev/null)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
  done
}

wait_for() { # seconds, command...
  local n=$(( $1 * 10 )); shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

start() {
  [ "$(id -u)" = "0" ] || cannot "needs root (slurmd and munged run as root/munge), running as $(id -un)"
  for bin in munged slurmctld slurmd sbatch squeue sacct scancel; do
    command -v "$bin" >/dev/null 2>&1 || cannot "$bin not found (apt-get install slurm-wlm munge)"
  done
  id munge >/dev/null 2>&1 || cannot "no munge user (apt-get install munge)"
  stop
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge" "$DIR/log"
  chmod 755 "$DIR" # munged (user munge) reaches its socket folder through it
  chown munge:munge "$DIR/munge"
  chmod 700 "$DIR/munge"
  if [ ! -s "$MUNGE_KEY" ]; then
    head -c 1024 /dev/urandom >"$MUNGE_KEY"
  fi
  chown munge:munge "$MUNGE_KEY"
  chmod 400 "$MUNGE_KEY"

  local host cpus mem
  host="$(hostname)"
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  cat >"$CONF" <<EOF
# One-node cluster written by scripts/slurm-local.sh
ClusterName=ptycho
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CryptoType=crypto/munge
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldPort=${PTYCHO_SLURMCTLD_PORT:-6817}
SlurmdPort=${PTYCHO_SLURMD_PORT:-6818}
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
MinJobAge=600
MaxArraySize=1001
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

  runuser -u munge -- munged --key-file="$MUNGE_KEY" --socket="$MUNGE_SOCKET" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --force \
    || cannot "munged did not start (see $DIR/munge/munged.log)"
  wait_for 5 test -S "$MUNGE_SOCKET" || cannot "munged socket $MUNGE_SOCKET did not appear"

  export SLURM_CONF="$CONF"
  slurmctld -f "$CONF" -c -i >>"$DIR/log/slurmctld.out" 2>&1 \
    || { stop; cannot "slurmctld did not start (see $DIR/log/slurmctld.log)"; }
  slurmd -f "$CONF" -c >>"$DIR/log/slurmd.out" 2>&1 \
    || { stop; cannot "slurmd did not start (see $DIR/log/slurmd.log)"; }
  # The node is usable once sinfo reports it idle.
  if ! wait_for 30 sh -c "sinfo -h -N -o '%T' | grep -qE '^(idle|mixed|allocated)'"; then
    state="$(sinfo -h -N -o '%T %E' 2>&1 | head -1)"
    stop
    cannot "the node did not become idle within 30 s (sinfo: ${state:-nothing}; logs in $DIR/log)"
  fi
  echo "SLURM_CONF=$CONF"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
