#!/usr/bin/env bash
# Install and start a single-node SLURM with accounting on this host, from the distribution's packages
# (Debian/Ubuntu): munge, MariaDB, slurmdbd, slurmctld, slurmd. No systemd needed (works in containers).
#
#   sudo tests/slurm/setup_slurm.sh      # idempotent: a second run only checks and repairs
#
# Last line printed, and exit code:
#   "SLURM READY: ..."   exit 0   sinfo/sbatch/sacct work; cluster, partition and account names follow
#   "SLURM SKIP: ..."    exit 0   this machine cannot host SLURM (not root, no apt-get, packages not installable)
#   "SLURM FAILED: ..."  exit 1   packages are installed but a daemon did not come up (logs are printed above)
#
# Names can be changed with ROCKZOOM_SLURM_CLUSTER (rockzoom), ROCKZOOM_SLURM_PARTITION (debug),
# ROCKZOOM_SLURM_ACCOUNT (rockzoom). Logs and pid files go to /var/log/rockzoom-slurm.
# GPUs: the node offers its /dev/nvidiaN cards as GRES "gpu". Without any, it offers ROCKZOOM_SLURM_FAKE_GPUS (default 2)
# placeholder devices, so that GPU jobs (sbatch --gpus=1) are scheduled and get CUDA_VISIBLE_DEVICES from SLURM like
# on a real GPU node; their code then finds no CUDA and runs on the CPU. ROCKZOOM_SLURM_FAKE_GPUS=0 turns this off.
set -uo pipefail

CLUSTER=${ROCKZOOM_SLURM_CLUSTER:-rockzoom}
PARTITION=${ROCKZOOM_SLURM_PARTITION:-debug}
ACCOUNT=${ROCKZOOM_SLURM_ACCOUNT:-rockzoom}
DB_PASS=rockzoom-slurmdbd # local-only database user, reachable through the unix socket on this host
LOGDIR=/var/log/rockzoom-slurm
CONF=/etc/slurm
T0=$(date +%s)

say() { echo "[setup_slurm $(($(date +%s) - T0))s] $*"; }
skip() { echo "SLURM SKIP: $*"; exit 0; }
fail() {
    for f in "$LOGDIR"/*.log /var/log/munge/munged.log; do [ -f "$f" ] && { echo "--- tail $f"; tail -n 20 "$f"; }; done
    echo "SLURM FAILED: $*"
    exit 1
}
wait_for() { # wait_for SECONDS CMD... : poll CMD until it succeeds
    local n=$1; shift
    for ((i = 0; i < n * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
    return 1
}

[ "$(id -u)" = 0 ] || skip "not root (needs to install packages and start daemons)"
command -v apt-get >/dev/null || skip "no apt-get (only Debian/Ubuntu packages are supported)"

# ---------------------------------------------------------------- packages
PKGS="munge mariadb-server slurmd slurmctld slurmdbd slurm-client"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the installer from trying to start services itself (no init system in containers).
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    ok=1
    apt-get update -qq >"/tmp/rockzoom-slurm-apt.log" 2>&1 || ok=0
    [ $ok = 1 ] && apt-get install -y -qq --no-install-recommends $missing >>"/tmp/rockzoom-slurm-apt.log" 2>&1 || ok=0
    [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ $ok = 1 ] || { tail -n 5 /tmp/rockzoom-slurm-apt.log; skip "packages could not be installed (see /tmp/rockzoom-slurm-apt.log)"; }
    say "packages installed"
else
    say "packages already installed"
fi

mkdir -p "$LOGDIR" "$CONF" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /run/munge /run/mysqld
chown munge:munge /run/munge && chmod 0755 /run/munge
chown mysql:mysql /run/mysqld
chown -R slurm:slurm /var/lib/slurm "$LOGDIR"

# ---------------------------------------------------------------- munge
if [ ! -s /etc/munge/munge.key ]; then
    (command -v mungekey >/dev/null && mungekey -c -f -k /etc/munge/munge.key) ||
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
fi
if ! (munge -n | unmunge) >/dev/null 2>&1; then
    say "starting munged"
    mkdir -p /var/log/munge && chown munge:munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged --force ||
        fail "munged did not start"
    wait_for 10 sh -c 'munge -n | unmunge' || fail "munge does not answer"
fi

# ---------------------------------------------------------------- MariaDB
if ! mysqladmin ping >/dev/null 2>&1; then
    say "starting MariaDB"
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOGDIR/mariadb-install.log" 2>&1
    setsid nohup mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
        --pid-file=/run/mysqld/mysqld.pid --bind-address=127.0.0.1 --innodb-buffer-pool-size=64M \
        >"$LOGDIR/mariadb.log" 2>&1 </dev/null &
    wait_for 60 mysqladmin ping || fail "MariaDB did not start"
fi
mysql -u root <<SQL || fail "could not create the accounting database"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL

# ---------------------------------------------------------------- configuration
HOST=$(hostname -s)
# The real CPUs and memory of this host, as slurmd itself sees them (e.g. "NodeName=vm CPUs=2 ... RealMemory=24105").
NODE_LINE=$(slurmd -C | head -n 1)
[ -n "$NODE_LINE" ] || fail "slurmd -C printed nothing"
mapfile -t GPU_FILES < <(ls /dev/nvidia[0-9]* 2>/dev/null | sort -V)
if [ ${#GPU_FILES[@]} = 0 ] && [ "${ROCKZOOM_SLURM_FAKE_GPUS:-2}" -gt 0 ]; then
    mkdir -p /var/lib/slurm/fake-gpu
    rm -f /var/lib/slurm/fake-gpu/gpu[0-9]* # regular files from an older version of this script
    for ((i = 0; i < ${ROCKZOOM_SLURM_FAKE_GPUS:-2}; i++)); do
        f=/var/lib/slurm/fake-gpu/nvidia$i # slurmd wants a device file: a copy of /dev/null (char 1,3)
        [ -c "$f" ] || mknod -m 666 "$f" c 1 3 || { say "no mknod: no placeholder GPUs"; GPU_FILES=(); break; }
        GPU_FILES+=("$f")
    done
fi
GRES_NODE="" GRES_TYPES=""
if [ ${#GPU_FILES[@]} -gt 0 ]; then
    GRES_NODE=" Gres=gpu:${#GPU_FILES[@]}" GRES_TYPES="GresTypes=gpu"
fi

write_if_changed() { # write_if_changed FILE MODE OWNER < content ; prints "changed" when it did
    local tmp; tmp=$(mktemp)
    cat >"$tmp"
    if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
    install -m "$2" -o "$3" -g "$3" "$tmp" "$1" && rm -f "$tmp"
    return 0
}

changed=0
write_if_changed "$CONF/slurmdbd.conf" 600 slurm <<EOF && changed=1
# written by rockzoom tests/slurm/setup_slurm.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/var/lib/slurm/slurmdbd.pid
LogFile=$LOGDIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF

write_if_changed "$CONF/gres.conf" 644 root <<EOF && changed=1
# written by rockzoom tests/slurm/setup_slurm.sh
$(for f in "${GPU_FILES[@]}"; do echo "NodeName=$HOST Name=gpu File=$f"; done)
EOF

# proctrack/linuxproc + task/none: no cgroups needed, so it also runs in containers.
write_if_changed "$CONF/slurm.conf" 644 root <<EOF && changed=1
# written by rockzoom tests/slurm/setup_slurm.sh: one host, accounting through slurmdbd
ClusterName=$CLUSTER
SlurmctldHost=$HOST
AuthType=auth/munge
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/var/lib/slurm/slurmctld.pid
SlurmdPidFile=/var/lib/slurm/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
$GRES_TYPES
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
AccountingStoreFlags=job_comment
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
$NODE_LINE$GRES_NODE State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
say "config: $NODE_LINE (changed=$changed)"

# ---------------------------------------------------------------- slurmdbd + accounting records
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if [ $changed = 1 ] && pid_alive /var/lib/slurm/slurmdbd.pid; then kill "$(cat /var/lib/slurm/slurmdbd.pid)"; sleep 2; fi
if ! pid_alive /var/lib/slurm/slurmdbd.pid; then
    say "starting slurmdbd"
    slurmdbd || fail "slurmdbd did not start"
fi
wait_for 60 sacctmgr -n list cluster || fail "slurmdbd does not answer sacctmgr"

sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
sacctmgr -n -P list account format=account | grep -qx "$ACCOUNT" ||
    sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="rockzoom tests" Organization=rockzoom >/dev/null
for u in root $(logname 2>/dev/null || true); do
    sacctmgr -n -P list assoc user="$u" account="$ACCOUNT" format=user | grep -qx "$u" ||
        sacctmgr -i add user "$u" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
done

# ---------------------------------------------------------------- slurmctld + slurmd
if [ $changed = 1 ]; then
    for p in /var/lib/slurm/slurmctld.pid /var/lib/slurm/slurmd.pid; do pid_alive $p && kill "$(cat $p)"; done
    sleep 2
fi
ctld_started=0
if ! pid_alive /var/lib/slurm/slurmctld.pid; then
    say "starting slurmctld"
    slurmctld || fail "slurmctld did not start"
    ctld_started=1
fi
wait_for 60 scontrol ping || fail "slurmctld does not answer"
if ! pid_alive /var/lib/slurm/slurmd.pid; then
    say "starting slurmd"
    slurmd || fail "slurmd did not start"
fi
state() { sinfo -h -n "$HOST" -o %t 2>/dev/null | head -n 1; }
wait_for 60 sh -c "sinfo -h -n $HOST -o %t | grep -Eq '^(idle|mix|alloc)'" || {
    # a node left DOWN/DRAIN by an earlier run comes back with "resume"
    scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1
    wait_for 30 sh -c "sinfo -h -n $HOST -o %t | grep -Eq '^(idle|mix|alloc)'" || fail "node $HOST is '$(state)', not idle"
}

if [ $ctld_started = 1 ]; then
    # A controller that was not running recovers the jobs of an earlier, killed run from its saved state: they hold
    # the node's CPUs (still "RUNNING") until it notices they are gone. Nothing else can own them: cancel them.
    stale=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [ -n "${stale// /}" ]; then
        say "cancelling jobs left by an earlier run: $stale"
        scancel $stale
        wait_for 60 sh -c '[ -z "$(squeue -h -o %i)" ]' || fail "jobs of an earlier run did not go: $(squeue -h -o '%i %T')"
    fi
fi

# ---------------------------------------------------------------- smoke job through accounting
jid=$(sbatch --parsable -A "$ACCOUNT" -p "$PARTITION" -n 1 --mem 100 -t 2 -o /dev/null --wrap true) ||
    fail "sbatch refused a job"
wait_for 90 sh -c "sacct -n -X -P -j $jid -o State | grep -qx COMPLETED" ||
    fail "smoke job $jid not COMPLETED in sacct (state: $(sacct -n -X -P -j "$jid" -o State))"
say "smoke job $jid COMPLETED in sacct"
if [ ${#GPU_FILES[@]} -gt 0 ]; then
    gjid=$(sbatch --parsable -A "$ACCOUNT" -p "$PARTITION" --gpus=1 --mem 100 -t 2 -o /dev/null \
        --wrap 'test -n "$CUDA_VISIBLE_DEVICES"') || fail "sbatch refused a --gpus=1 job"
    wait_for 90 sh -c "sacct -n -X -P -j $gjid -o State | grep -qx COMPLETED" ||
        fail "GPU smoke job $gjid not COMPLETED (state: $(sacct -n -X -P -j "$gjid" -o State)); CUDA_VISIBLE_DEVICES unset?"
    say "GPU smoke job $gjid COMPLETED (gres/gpu: ${GPU_FILES[*]})"
fi
echo "SLURM READY: cluster=$CLUSTER partition=$PARTITION account=$ACCOUNT gpus=${#GPU_FILES[@]} node='$NODE_LINE' setup_s=$(($(date +%s) - T0))"
