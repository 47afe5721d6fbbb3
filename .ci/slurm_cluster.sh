#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/test_slurm.py (the SLURM profile run for
# real, not only as a dry run).
#
#   .ci/slurm_cluster.sh start   install munge, slurmctld, slurmd and the client tools (Debian
#                                packages) if missing, write a one-node slurm.conf for this host,
#                                start munged, slurmctld and slurmd, wait until the node is idle
#   .ci/slurm_cluster.sh stop    stop the daemons that 'start' started (by their pid files)
#   .ci/slurm_cluster.sh status  sinfo of the running cluster
#
# Everything lives in one directory, $GRASSEGO_SLURM_DIR (default /tmp/grassego-slurm): config,
# munge key and socket, controller state, daemon logs and the job completion log
# (jobcomp.log: one line per finished job with its state, CPUs, memory and time limit; no
# accounting database is needed). The one file written outside it is the symbolic link
# /etc/slurm/slurm.conf -> $GRASSEGO_SLURM_DIR/slurm.conf, where the client commands look (Snakemake's
# job step removes SLURM_CONF from the environment of the srun inside each job, so it must be the
# default place); 'start' refuses to run where that file exists and is not its link, so a real
# cluster's config is never replaced, and 'stop' removes the link. munge runs on its own key and
# socket (AuthInfo=socket=...). Runs as root (slurmd starts jobs as their owner). Ports:
# $GRASSEGO_SLURM_PORT (controller, default 6817) and the next one (slurmd).
#
# The node offers $GRASSEGO_SLURM_CPUS CPUs (default: the host's cores, at least 4) and the host's
# real memory. At least 4 because the profile under test (config/profiles/slurm) gives each
# simulate job 4 threads: on a 2-core machine the node advertises more CPUs than it has
# (SlurmdParameters=config_overrides) so that the profile is tested as written; those jobs then
# share the cores, which changes their speed, not their results.
set -euo pipefail

DIR=${GRASSEGO_SLURM_DIR:-/tmp/grassego-slurm}
PORT=${GRASSEGO_SLURM_PORT:-6817}
CONF=$DIR/slurm.conf
LINK=/etc/slurm/slurm.conf

log() { echo "slurm_cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

install_packages() {
    local missing=()
    command -v munged >/dev/null || missing+=(munge)
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd >/dev/null || missing+=(slurmd)
    command -v sbatch >/dev/null || missing+=(slurm-client)
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d-style refusals to start the packaged services are expected: we start our own.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$DIR/apt.log" 2>&1 \
        || { tail -20 "$DIR/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

running() {  # running NAME: the pid in $DIR/NAME.pid is a live process named NAME (not a reused pid)
    [ -s "$DIR/$1.pid" ] && [ "$(ps -o comm= -p "$(cat "$DIR/$1.pid")" 2>/dev/null)" = "$1" ]
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    cpus=${GRASSEGO_SLURM_CPUS:-$(( $(nproc) > 4 ? $(nproc) : 4 ))}
    [ -n "$mem" ] || die "slurmd -C did not report the memory of this host"
    cat >"$CONF" <<EOF
# One-node test cluster written by .ci/slurm_cluster.sh (see there); host $host.
ClusterName=grassego-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# No cgroups (containers often have none): processes tracked by parent pid, no CPU binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# The job completion log instead of an accounting database: the test reads each job's state and
# resources from it. Snakemake's executor then polls job states with squeue, which sees finished
# jobs for MinJobAge seconds.
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=3600
ReturnToService=2
SlurmdParameters=config_overrides
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    [ "$(id -u)" -eq 0 ] || die "needs root (slurmd runs jobs as their owner)"
    if running slurmctld && running slurmd && running munged; then
        log "already running ($CONF)"
        wait_idle
        return
    fi
    stop_daemons
    if [ -e "$LINK" ] && [ "$(readlink "$LINK")" != "$CONF" ]; then
        die "$LINK exists and is not this script's link: a SLURM cluster is configured here"
    fi
    mkdir -p "$DIR"
    install_packages
    rm -rf "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/munge"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/munge"
    chmod 0700 "$DIR/munge"
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$DIR/munge/munge.key"
    write_conf
    mkdir -p "$(dirname "$LINK")"
    ln -sfn "$CONF" "$LINK"
    munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed" || die "munged did not start ($DIR/log/munged.log)"
    slurmctld -f "$CONF" || die "slurmctld did not start ($DIR/log/slurmctld.log)"
    slurmd -f "$CONF" || die "slurmd did not start ($DIR/log/slurmd.log)"
    wait_idle
    log "up ($CONF)"
}

wait_idle() {
    local state=""
    for _ in $(seq 60); do
        state=$(sinfo --noheader --format=%T 2>/dev/null || true)
        [ "$state" = idle ] && return
        sleep 1
    done
    tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    die "the node is not idle after 60 s (sinfo: '${state:-no answer}')"
}

stop_daemons() {
    local name pid
    for name in slurmd slurmctld munged; do
        running "$name" || continue
        pid=$(cat "$DIR/$name.pid")
        kill "$pid"
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && { log "$name ($pid) ignores SIGTERM; killing"; kill -9 "$pid"; }
        rm -f "$DIR/$name.pid"
    done
}

case "${1:-}" in
    start) start ;;
    stop)
        stop_daemons
        [ "$(readlink "$LINK" 2>/dev/null)" = "$CONF" ] && rm -f "$LINK"
        log "stopped" ;;
    status) sinfo ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
