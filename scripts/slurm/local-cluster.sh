#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the sharded-run test and for trying `ephys submit`
# without a cluster: `local-cluster.sh start DIR` starts munged, slurmctld and slurmd (Debian's
# slurm-wlm 22.05 and munge) with every key, state, spool, socket and log file under DIR, and prints
# the `export SLURM_CONF=...` line to use; `local-cluster.sh stop DIR` stops them by their PIDs.
# Needs root (slurmd runs jobs as their users) and the packages slurm-wlm and munge.
set -euo pipefail
action=${1:?usage: local-cluster.sh start|stop DIR}
dir=${2:?usage: local-cluster.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

stop() {
  for daemon in slurmd slurmctld munged; do
    if [ -f "$dir/$daemon.pid" ]; then
      pid=$(cat "$dir/$daemon.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$daemon.pid"
    fi
  done
}

if [ "$action" = stop ]; then stop; exit 0; fi
[ "$action" = start ] || { echo "local-cluster: unknown action '$action' (start or stop)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "local-cluster: needs root (slurmd and SlurmUser=root)" >&2; exit 1; }
for tool in munged slurmctld slurmd sbatch scontrol; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
    echo "local-cluster: $tool not found (apt-get install slurm-wlm munge)" >&2
    exit 1
  }
done
export PATH="$PATH:/usr/sbin"
stop
host=$(hostname -s)
cpus=$(nproc)
memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))
# Ports: from the environment, else a pair derived from the folder's name so that two clusters
# (two test runs) on one machine do not collide.
base=$((20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000))
ctld_port=${EPHYS_SLURMCTLD_PORT:-$base}
slurmd_port=${EPHYS_SLURMD_PORT:-$((base + 1))}
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"

# munge: a fresh random key (root only), its own socket.
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
# The daemons get /dev/null for their standard streams: a caller reading this script's output to its
# end would otherwise wait for them.
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
  </dev/null >/dev/null 2>&1

cat > "$dir/slurm.conf" <<CONF
# One-node cluster written by scripts/slurm/local-cluster.sh (Ephys tests).
ClusterName=ephys-local
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$dir/slurm.conf" </dev/null >/dev/null 2>&1
slurmd -f "$dir/slurm.conf" </dev/null >/dev/null 2>&1
# Ready when the node is idle (or mixed); give up after 30 s with the daemons' logs.
for _ in $(seq 150); do
  state=$(sinfo -h -o '%t' 2>/dev/null | head -n 1 || true)
  case "$state" in idle*|mix*|alloc*) echo "export SLURM_CONF=$dir/slurm.conf"; exit 0 ;; esac
  sleep 0.2
done
echo "local-cluster: the node did not become ready (state '${state:-none}'); logs in $dir" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
stop
exit 1
