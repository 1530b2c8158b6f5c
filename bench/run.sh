#!/usr/bin/env bash
# Side-by-side cache-hit benchmark: Verge vs nginx proxy_cache, same origin, same box, same wrk.
#
#   bash bench/run.sh [scenario...]      scenarios: 1k 100k 256k 1m js js-up js-up-uri mem busy sendpath
#                                        (default: 1k 100k js, the issues' three)
#
#   1k, 100k, 256k, 1m
#             cache hits of a 1 KiB / 100 KiB / 256 KiB / 1 MiB object: Verge
#             (bench/verge.yaml) vs nginx proxy_cache (bench/nginx/proxy.conf)
#   js        1 KiB hits through one viewer-response JS function adding a header: Verge
#             (bench/verge-js.yaml, functions/add-header.js) vs nginx + njs js_header_filter
#             (bench/nginx/proxy-njs.conf, nginx/add-header.njs)
#   mem       not a speed test: the memory of a node with many uploaded functions, each deployed,
#             published and associated (viewer-request, on a behavior of its own) through the
#             CLI and run once: PSS and RSS of the node and its worker processes, for each of
#             MEM_COUNTS functions (a new node for each count), then the time of a call to a
#             function whose worker the node ended for room (server.max_function_workers)
#             and to one whose worker runs, then the memory once every worker has gone
#             MEM_IDLE without a call (server.function_worker_idle) and was ended
#   busy      many uploaded functions busy at once: for each of BUSY_COUNTS, a node with that
#             many viewer-request functions (functions/any-to-1k.js: 1 KiB hits), deployed as
#             for mem, under wrk calling them in turn, round robin: req/s, errors, worker
#             processes at the end, and those ended for room during the run, with
#             MEM_WORKERS as the cap. No nginx run
#   js-up-uri a viewer-request function rewriting /page to /1k.bin (functions/rewrite-uri.js),
#             uploaded as for js-up, vs nginx + njs js_set and rewrite (the /page location)
#   js-up     the same function uploaded as a user would (verge fn deploy, publish, associate
#             on bench/verge.yaml), so it runs in a sandboxed worker process, vs nginx + njs
#   sendpath  not Verge: bench/sendpath, a bare server, sending the same objects in each of
#             SENDPATH_MODES vs nginx proxy_cache, at each of SENDPATH_SIZES (rows sp-MODE-SIZE)
#
# Environment (defaults in brackets):
#   DURATION [10s]  length of each measured wrk run      WARMUP [2s]  unmeasured wrk run before it
#   THREADS [2]     wrk -t                                 CONNS [64]   wrk -c
#   ROUNDS [1]      measured rounds; each alternates Verge and nginx (odd rounds Verge first)
#   NGINX_WORKERS   nginx worker_processes [the CPUs Go sees: nproc]
#   OUT             where raw wrk outputs and the table go [a new mktemp dir, kept]
#   KEEP_TMP=1      keep the working directory (configs, logs, caches) after exit
#   QUIET_WAIT [20] seconds to wait, before each measured run, for other processes to leave
#                   the box under 10% busy (the run then starts anyway, with a warning)
#   VERGE_BIN       use this verge binary instead of building ./cmd/verge
#   SENDPATH_MODES [writev more separate cork]   SENDPATH_SIZES [100k 256k 1m]
#   MEM_COUNTS [10 100]  functions deployed for the mem scenario (1000 takes minutes)
#   MEM_WORKERS [8 per CPU, the node's default]  server.max_function_workers for mem and busy
#   MEM_IDLE [10s]  server.function_worker_idle for mem (the node's default is 15m)
#   BUSY_COUNTS [8 32 100]  functions called at once in the busy scenario
#   PROFILE=1       also save a CPU profile of Verge during each measured run (OUT/*.pprof;
#                   `go tool pprof -top OUT/verge OUT/js-r1-verge.pprof`)
#
# Everything listens on 127.0.0.1 on free ports; every process started here is stopped by PID
# on exit. See bench/README.md for what is measured and the fairness notes.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-1}
QUIET_WAIT=${QUIET_WAIT:-20}
NGINX_WORKERS=${NGINX_WORKERS:-$(nproc)}
NJS_MODULE=${NJS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}

log() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

(($# > 0)) || set -- 1k 100k js
for s in "$@"; do
	case $s in
	1k | 100k | 256k | 1m | js | js-up | js-up-uri | mem | busy | sendpath) ;;
	*) die "unknown scenario '$s' (want: 1k 100k 256k 1m js js-up js-up-uri mem busy sendpath)" ;;
	esac
done
SENDPATH_MODES=${SENDPATH_MODES:-writev more separate cork}
MEM_COUNTS=${MEM_COUNTS:-10 100}
BUSY_COUNTS=${BUSY_COUNTS:-8 32 100}
SENDPATH_SIZES=${SENDPATH_SIZES:-100k 256k 1m}
for m in $SENDPATH_MODES; do
	[[ " writev more separate cork " == *" $m "* ]] || die "SENDPATH_MODES: unknown mode '$m' (want: writev more separate cork)"
done
for s in $SENDPATH_SIZES; do
	[[ " 1k 100k 256k 1m " == *" $s "* ]] || die "SENDPATH_SIZES: unknown size '$s' (want: 1k 100k 256k 1m)"
done
SCENARIOS=" $* "
has() { [[ $SCENARIOS == *" $1 "* ]]; }

# --- processes and cleanup --------------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/verge-bench.XXXXXX")
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/verge-bench-results.XXXXXX")}
mkdir -p "$OUT"
PIDS=()

stop_pid() { # PID: SIGTERM, up to 5 s to exit, then SIGKILL
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop() { # PID...: stop these and forget them
	local pid keep=() p
	for pid in "$@"; do stop_pid "$pid"; done
	for p in "${PIDS[@]}"; do
		[[ " $* " == *" $p "* ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	if [[ -n ${KEEP_TMP:-} ]]; then
		log "kept working directory $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------------------

SUDO=()
((EUID == 0)) || SUDO=(sudo)
APT_UPDATED=
apt_install() { # PACKAGE...
	if [[ -z $APT_UPDATED ]]; then
		log "apt-get update"
		DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get update -q >&2 || return 1
		APT_UPDATED=1
	fi
	log "apt-get install -y $*"
	DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q "$@" >&2
}

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x $NGINX ]] || ! command -v wrk >/dev/null || ! command -v curl >/dev/null; then
	apt_install nginx-light wrk curl || die "could not install nginx-light, wrk and curl"
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

JS_OK=1
if { has js || has js-up || has js-up-uri; } && [[ ! -f $NJS_MODULE ]]; then
	# Debian ships njs for nginx as libnginx-mod-http-js (apt-cache search njs).
	apt_install libnginx-mod-http-js || true
	if [[ ! -f $NJS_MODULE ]]; then
		JS_OK=
		log "SKIP js: nginx's njs module ($NJS_MODULE, Debian package libnginx-mod-http-js) is not available"
	fi
fi

VERGE_FROM="go build -o verge ./cmd/verge at $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
if [[ -n ${VERGE_BIN:-} ]]; then
	VERGE_FROM="VERGE_BIN=$VERGE_BIN"
	log "using VERGE_BIN=$VERGE_BIN"
	cp "$VERGE_BIN" "$TMP/verge"
else
	command -v go >/dev/null || die "go is not installed"
	log "go build -o $TMP/verge ./cmd/verge"
	(cd "$REPO" && go build -o "$TMP/verge" ./cmd/verge) || die "go build failed"
fi

# --- helpers ----------------------------------------------------------------------------------

USED_PORTS=" "
free_port() { # VAR: a free 127.0.0.1 TCP port not handed out before by this script
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 40000))
		[[ $USED_PORTS == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS+="$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	die "no free port found"
}

wait_port() { # PORT PID LOG: until 127.0.0.1:PORT accepts, the process died, or 10 s
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	printf 'bench: nothing listening on 127.0.0.1:%s; %s says:\n' "$1" "$3" >&2
	tail -n 20 "$3" >&2 || true
	return 1
}

render() { # TEMPLATE OUTPUT [PORT]: fill in the @@...@@ placeholders
	local user='# (not root: no user directive)'
	((EUID != 0)) || user='user root;' # workers must read and write the mktemp dirs (0700)
	sed -e "s|@@TMP@@|$TMP|g" -e "s|@@BENCH@@|$BENCH|g" -e "s|@@USER@@|$user|" \
		-e "s|@@ORIGIN_PORT@@|$ORIGIN_PORT|g" -e "s|@@PORT@@|${3:-}|g" \
		-e "s|@@WORKERS@@|$NGINX_WORKERS|g" -e "s|@@NJS_MODULE@@|$NJS_MODULE|g" "$1" >"$2"
}

start_nginx() { # NAME TEMPLATE PORT: sets NGINX_PID
	local name=$1 conf
	conf="$TMP/nginx/$(basename "$2")"
	render "$2" "$conf" "$3"
	mkdir -p "$TMP/nginx-$name-tmp"
	"$NGINX" -p "$TMP/" -c "$conf" -e "$TMP/nginx-$name.err" >"$TMP/nginx-$name.out" 2>&1 &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	wait_port "$3" "$NGINX_PID" "$TMP/nginx-$name.err" || return 1
	cp "$conf" "$OUT/nginx-$name.conf" # the exact config measured
}

start_verge() { # NAME CONFIG: sets VERGE_PID, VERGE_PORT; returns 1 if Verge did not start
	local name=$1 conf i line admin
	conf="$TMP/$(basename "$2")"
	sed "s|http://127.0.0.1:19000|http://127.0.0.1:$ORIGIN_PORT|" "$2" >"$conf"
	"$TMP/verge" serve --config "$conf" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
		--data "$TMP/data-$name" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	VERGE_PID=$!
	PIDS+=("$VERGE_PID")
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 "^verge: serving on" "$TMP/$name.out" 2>/dev/null || true)
		[[ -n $line ]] && break
		kill -0 "$VERGE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [[ -z $line ]]; then
		printf 'bench: verge (%s) did not start; it says:\n' "$2" >&2
		tail -n 20 "$TMP/$name.err" "$TMP/$name.out" >&2 || true
		stop "$VERGE_PID"
		return 1
	fi
	# "verge: serving on http://127.0.0.1:PORT (admin http://127.0.0.1:APORT)"
	VERGE_PORT=${line#*serving on http://127.0.0.1:}
	VERGE_PORT=${VERGE_PORT%% *}
	admin=${line#*admin http://}
	admin=${admin%%[,)]*}
	VERGE_ADMIN=$admin
	curl -fsS --max-time 5 -o /dev/null "http://$admin/readyz" || die "verge /readyz on $admin did not answer 200"
	cp "$conf" "$OUT/" # the exact config measured
}

check_hit() { # URL BYTES HEADER...: the second GET is a cache hit carrying every HEADER line
	local url=$1 bytes=$2 hdrs size h
	shift 2
	curl -fsS --max-time 5 -o /dev/null "$url" || die "GET $url failed"
	hdrs=$(curl -fsS --max-time 5 -D - -o /dev/null -w 'size=%{size_download}\n' "$url") ||
		die "GET $url failed"
	size=$(sed -n 's/^size=//p' <<<"$hdrs")
	[[ $size == "$bytes" ]] || die "GET $url: $size bytes, want $bytes"
	for h in "$@"; do
		grep -qi "^$h" <<<"$hdrs" || die "GET $url: no '$h' on the second request; headers:
$hdrs"
	done
}

box_jiffies() { # TOTAL_VAR BUSY_VAR STEAL_VAR: CPU time of the whole box so far (all CPUs)
	local j
	read -ra j </proc/stat
	printf -v "$1" '%d' $((j[1] + j[2] + j[3] + j[4] + j[5] + j[6] + j[7] + j[8]))
	printf -v "$2" '%d' $((j[1] + j[2] + j[3] + j[6] + j[7] + j[8])) # all but idle and iowait
	printf -v "$3" '%d' $((j[8]))                                    # taken by the hypervisor
}

busy() { # VAR: how busy the whole box was (percent of all CPUs) over the last second
	local t1 b1 s1 t2 b2 s2
	box_jiffies t1 b1 s1
	sleep 1
	box_jiffies t2 b2 s2
	printf -v "$1" '%d' $((100 * (b2 - b1) / (t2 - t1 > 0 ? t2 - t1 : 1)))
}

KSOFTIRQD=() # kernel threads that carry part of the loopback traffic: counted as ours
for f in /proc/[0-9]*/comm; do
	c=$(cat "$f" 2>/dev/null) || continue
	[[ $c != ksoftirqd/* ]] || { f=${f#/proc/} && KSOFTIRQD+=("${f%/comm}"); }
done

snapshot() { # FILE PID...: "pid cputime" of every process except ours: these servers, their
	# children (nginx workers), this shell and its children (wrk), ksoftirqd
	local file=$1 skip=" $$ ${KSOFTIRQD[*]} " pid kids
	shift
	for pid in "$@" $$; do
		read -ra kids < <(cat /proc/"$pid"/task/*/children 2>/dev/null) || true
		skip+="$pid ${kids[*]} "
	done
	# cat, not awk FILE...: mawk stops at the first process that exited since the glob.
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v skip="$skip" '
		{ pid = $1; sub(/^.*\) /, "") }                           # fields now start at the state
		index(skip, " " pid " ") == 0 { print pid, $12 + $13 }  # utime + stime
	' >"$file" || true
}

others_delta() { # VAR BEFORE AFTER: CPU time other processes used between two snapshots
	# Processes alive at both count their difference, new ones all of theirs; processes that
	# started and ended in between are missed, so this is a lower bound.
	printf -v "$1" '%d' "$(awk 'NR == FNR { a[$1] = $2; next }
		{ d = $2 - a[$1]; if (d > 0) s += d } END { print s + 0 }' "$2" "$3")"
}

OTHERS_MAX=0
RESULTS=() # "scenario round server rps p50_us p99_us errors others%"
run_wrk() { # SCENARIO ROUND SERVER URL PID: one measured run against the server PID serves
	local out="$OUT/$1-r$2-$3.txt" line rps p50 p99 se st pct waited=0 t0 b0 s0 t1 b1 s1 o1 oth
	# On a shared box, wait up to QUIET_WAIT s for other processes to calm down (our servers
	# and wrk are idle now), then measure how much CPU they took during the run anyway.
	busy pct
	while ((pct >= 10 && waited < QUIET_WAIT)); do
		busy pct
		waited=$((waited + 1))
	done
	local cmd=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$BENCH/wrk-report.lua" "$4")
	printf '%s\n' "${cmd[*]}" >>"$OUT/commands.txt"
	box_jiffies t0 b0 s0
	snapshot "$TMP/procs0" "$5"
	local prof_pid=
	if [[ -n ${PROFILE:-} && $3 == verge && $1 != sp-* ]]; then
		# The middle of the run: wrk's first and last second are left out.
		local secs=$((${DURATION%s} - 2 > 0 ? ${DURATION%s} - 2 : 1))
		(sleep 1 && curl -fsS --max-time $((secs + 10)) -o "$OUT/$1-r$2-verge.pprof" \
			"http://$VERGE_ADMIN/debug/pprof/profile?seconds=$secs") &
		prof_pid=$!
	fi
	"${cmd[@]}" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
	[[ -z $prof_pid ]] || wait "$prof_pid" || log "no CPU profile for $1 round $2"
	box_jiffies t1 b1 s1
	snapshot "$TMP/procs1" "$5"
	others_delta o1 "$TMP/procs0" "$TMP/procs1"
	oth=$((100 * (o1 + s1 - s0) / (t1 - t0 > 0 ? t1 - t0 : 1))) # other processes + steal
	line=$(grep '^WRKRESULT' "$out") || die "no WRKRESULT line in $out"
	rps=$(sed 's/.* rps=\([^ ]*\).*/\1/' <<<"$line")
	p50=$(sed 's/.* p50_us=\([^ ]*\).*/\1/' <<<"$line")
	p99=$(sed 's/.* p99_us=\([^ ]*\).*/\1/' <<<"$line")
	se=$(sed 's/.* socket_errors=\([^ ]*\).*/\1/' <<<"$line")
	st=$(sed 's/.* status_errors=\([^ ]*\).*/\1/' <<<"$line")
	RESULTS+=("$1 $2 $3 $rps $p50 $p99 $((se + st)) $oth")
	log "$(printf '%-5s round %s %-6s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  others %d%%' \
		"$1" "$2" "$3" "$rps" "$(awk -v u="$p50" 'BEGIN{print u/1000}')" \
		"$(awk -v u="$p99" 'BEGIN{print u/1000}')" "$((se + st))" "$oth")"
	((oth <= OTHERS_MAX)) || OTHERS_MAX=$oth
}

warm() { # URL: an unmeasured wrk run (Go heap sizing, nginx open_file_cache, connections)
	[[ $WARMUP == 0 || $WARMUP == 0s ]] && return 0
	wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$1" >/dev/null 2>&1 || die "wrk warm-up of $1 failed"
}

compare() { # SCENARIO VERGE_URL VERGE_PID NGINX_URL NGINX_PID: warm-up, then ROUNDS rounds
	local r
	warm "$2"
	warm "$4"
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2 == 1)); then
			run_wrk "$1" "$r" verge "$2" "$3"
			run_wrk "$1" "$r" nginx "$4" "$5"
		else
			run_wrk "$1" "$r" nginx "$4" "$5"
			run_wrk "$1" "$r" verge "$2" "$3"
		fi
	done
}

# --- origin -----------------------------------------------------------------------------------

mkdir -p "$TMP/www" "$TMP/nginx"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
head -c 102400 /dev/urandom >"$TMP/www/100k.bin"
head -c 262144 /dev/urandom >"$TMP/www/256k.bin"
head -c 1048576 /dev/urandom >"$TMP/www/1m.bin"
free_port ORIGIN_PORT
render "$BENCH/nginx/proxy-http.conf" "$TMP/nginx/proxy-http.conf"
cp "$TMP/nginx/proxy-http.conf" "$OUT/nginx-proxy-http.conf"
log "origin: nginx on 127.0.0.1:$ORIGIN_PORT (1k.bin 100k.bin 256k.bin 1m.bin, Cache-Control: max-age=3600)"
start_nginx origin "$BENCH/nginx/origin.conf" "$ORIGIN_PORT" || die "origin nginx did not start"
ORIGIN_PID=$NGINX_PID

declare -A SIZE=([1k]=1024 [100k]=102400 [256k]=262144 [1m]=1048576)

# --- 1k, 100k, 256k, 1m: plain cache hits; sendpath -------------------------------------------

start_sendpath() { # MODE PORT: sets SP_PID
	"$TMP/sendpath" -listen "127.0.0.1:$2" -dir "$TMP/www" -spool "$TMP" -mode "$1" \
		>"$TMP/sendpath-$1.out" 2>&1 &
	SP_PID=$!
	PIDS+=("$SP_PID")
	wait_port "$2" "$SP_PID" "$TMP/sendpath-$1.out"
}

PLAIN=
for s in 1k 100k 256k 1m; do
	if has "$s"; then PLAIN+="$s "; fi
done
if [[ -n $PLAIN ]] || has sendpath; then
	if [[ -n $PLAIN ]]; then
		start_verge verge "$BENCH/verge.yaml" || die "verge did not start with bench/verge.yaml"
		V_PID=$VERGE_PID V_PORT=$VERGE_PORT
		log "verge on 127.0.0.1:$V_PORT"
	fi
	free_port N_PORT
	start_nginx proxy "$BENCH/nginx/proxy.conf" "$N_PORT" || die "nginx proxy did not start"
	N_PID=$NGINX_PID
	log "nginx proxy_cache on 127.0.0.1:$N_PORT"
	for s in $PLAIN; do
		check_hit "http://127.0.0.1:$V_PORT/$s.bin" "${SIZE[$s]}" 'X-Cache: Hit from verge'
		check_hit "http://127.0.0.1:$N_PORT/$s.bin" "${SIZE[$s]}" 'X-Cache-Status: HIT'
		compare "$s" "http://127.0.0.1:$V_PORT/$s.bin" "$V_PID" "http://127.0.0.1:$N_PORT/$s.bin" "$N_PID"
	done
	[[ -z $PLAIN ]] || stop "$V_PID"
	if has sendpath; then
		log "go build -o $TMP/sendpath ./bench/sendpath"
		(cd "$REPO" && go build -o "$TMP/sendpath" ./bench/sendpath) || die "go build of bench/sendpath failed"
		SPOOL_FS="$(findmnt -no FSTYPE -T "$TMP" 2>/dev/null || stat -f -c %T "$TMP") ($(df --output=source "$TMP" | tail -n 1))"
		log "sendpath spools in $TMP, on $SPOOL_FS"
		for s in $SENDPATH_SIZES; do
			check_hit "http://127.0.0.1:$N_PORT/$s.bin" "${SIZE[$s]}" 'X-Cache-Status: HIT'
			for m in $SENDPATH_MODES; do
				free_port SP_PORT
				start_sendpath "$m" "$SP_PORT" || die "sendpath -mode $m did not start"
				check_hit "http://127.0.0.1:$SP_PORT/$s.bin" "${SIZE[$s]}" 'X-Cache: Hit from sendpath'
				compare "sp-$m-$s" "http://127.0.0.1:$SP_PORT/$s.bin" "$SP_PID" "http://127.0.0.1:$N_PORT/$s.bin" "$N_PID"
				stop "$SP_PID"
			done
		done
	fi
	stop "$N_PID"
fi

# --- js: one viewer-response function ---------------------------------------------------------

compare_njs() { # SCENARIO WHAT [PATH HEADER...]: the Verge on $VERGE_PORT (pid $VERGE_PID)
	# against nginx + njs, GETting PATH (/1k.bin), whose hits carry every HEADER (X-Bench: 1)
	local v_pid=$VERGE_PID v_port=$VERGE_PORT j_port path=${3:-/1k.bin}
	local hdrs=("${@:4}")
	((${#hdrs[@]})) || hdrs=('X-Bench: 1')
	free_port j_port
	start_nginx njs "$BENCH/nginx/proxy-njs.conf" "$j_port" || die "nginx with njs did not start"
	log "verge $2 on 127.0.0.1:$v_port, nginx+njs on 127.0.0.1:$j_port"
	check_hit "http://127.0.0.1:$v_port$path" 1024 'X-Cache: Hit from verge' "${hdrs[@]}"
	check_hit "http://127.0.0.1:$j_port$path" 1024 'X-Cache-Status: HIT' "${hdrs[@]}"
	compare "$1" "http://127.0.0.1:$v_port$path" "$v_pid" "http://127.0.0.1:$j_port$path" "$NGINX_PID"
	stop "$v_pid" "$NGINX_PID"
}

JS_NOTE=
if has js && [[ -n $JS_OK ]]; then
	mkdir -p "$TMP/functions"
	cp "$BENCH/functions/"* "$TMP/functions/"
	if start_verge verge-js "$BENCH/verge-js.yaml"; then
		compare_njs js "with an in-process function"
	else
		JS_NOTE="js: NOT MEASURED: verge serve refused bench/verge-js.yaml (see above)"
		log "$JS_NOTE"
	fi
elif has js; then
	JS_NOTE="js: SKIPPED: nginx's njs module is not available (libnginx-mod-http-js)"
fi

# --- js-up: the same function, uploaded through the CLI (a worker process) -------------------

if has js-up && [[ -n $JS_OK ]]; then
	start_verge verge-up "$BENCH/verge.yaml" || die "verge did not start with bench/verge.yaml"
	fn() { "$TMP/verge" fn "$@" --admin "http://$VERGE_ADMIN" >&2; }
	fn deploy addh --file "$BENCH/functions/add-header.js" --runtime lambda-edge || die "verge fn deploy failed"
	fn publish addh || die "verge fn publish failed"
	fn associate '*' viewer-response addh:1 || die "verge fn associate failed"
	compare_njs js-up "with an uploaded function"
elif has js-up; then
	JS_NOTE+="${JS_NOTE:+; }js-up: SKIPPED: nginx's njs module is not available (libnginx-mod-http-js)"
fi

# --- js-up-uri: an uploaded viewer-request function rewriting the URI ------------------------

if has js-up-uri && [[ -n $JS_OK ]]; then
	start_verge verge-up-uri "$BENCH/verge.yaml" || die "verge did not start with bench/verge.yaml"
	fn() { "$TMP/verge" fn "$@" --admin "http://$VERGE_ADMIN" >&2; }
	fn deploy rewrite --file "$BENCH/functions/rewrite-uri.js" --runtime lambda-edge || die "verge fn deploy failed"
	fn publish rewrite || die "verge fn publish failed"
	fn associate '*' viewer-request rewrite:1 || die "verge fn associate failed"
	compare_njs js-up-uri "with an uploaded viewer-request function" /page 'Content-Length: 1024'
elif has js-up-uri; then
	JS_NOTE+="${JS_NOTE:+; }js-up-uri: SKIPPED: nginx's njs module is not available (libnginx-mod-http-js)"
fi
# --- mem: the memory of many uploaded functions ----------------------------------------------

mem_kib() { # FIELD PID...: the sum of FIELD (Pss, Rss) over the processes' smaps_rollup, in KiB
	local field=$1 pid sum=0 v
	shift
	for pid in "$@"; do
		v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

mem_call_ms() { # PATH: the wall time of one request to Verge, in milliseconds
	curl -sS --max-time 10 -o /dev/null -w '%{time_total}' "http://127.0.0.1:$VERGE_PORT$1" |
		awk '{ printf "%.2f", $1 * 1000 }'
}

MEM_ROWS=() MEM_CALLS=() MEM_IDLE_ROWS=() BUSY_ROWS=()
MEM_WORKERS=${MEM_WORKERS:-$((8 * $(nproc)))}
MEM_IDLE=${MEM_IDLE:-10s}
start_many() { # NAME N FILE [SERVER_YAML]: starts Verge (VERGE_PID...) with N uploaded functions of FILE's code, on /fI/* each, run once
	local name=$1 n=$2 file=$3 extra=${4:-} conf="$TMP/mem/verge-$1.yaml" i # start_verge writes its copy to $TMP
	mkdir -p "$TMP/mem"
	{
		sed '/^behaviors:/,$d' "$BENCH/verge.yaml"
		printf 'server:\n  max_function_versions: %d\n  max_function_workers: %d\n' "$((n + 16))" "$MEM_WORKERS"
		[[ -z $extra ]] || printf '  %s\n' "$extra"
		echo "behaviors:"
		for ((i = 1; i <= n; i++)); do
			printf '  - path: "/f%d/*"\n    origin: origin\n' "$i"
		done
		printf '  - path: "*"\n    origin: origin\n'
	} >"$conf"
	start_verge "$name" "$conf" || die "verge did not start with $conf"
	fn() { "$TMP/verge" fn "$@" --admin "http://$VERGE_ADMIN" >/dev/null; }
	log "$name: deploying $n functions through the CLI"
	for ((i = 1; i <= n; i++)); do
		fn deploy "f$i" --file "$file" --runtime lambda-edge || die "verge fn deploy f$i failed"
		fn publish "f$i" || die "verge fn publish f$i failed"
		fn associate "/f$i/*" viewer-request "f$i:1" || die "verge fn associate f$i failed"
	done
	for ((i = 1; i <= n; i++)); do
		curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:$VERGE_PORT/f$i/x" || true # a 404 from the origin will do: the function ran
	done
}
reclaims() { # the node's verge_function_worker_reclaims_total
	curl -fsS --max-time 5 "http://$VERGE_ADMIN/metrics" | awk '$1 == "verge_function_worker_reclaims_total" { print $2 + 0 }'
}

if has mem; then
	for n in $MEM_COUNTS; do
		start_many "verge-mem-$n" "$n" "$BENCH/functions/rewrite-uri.js" "function_worker_idle: $MEM_IDLE"
		want=$((n < MEM_WORKERS ? n + 1 : MEM_WORKERS + 1)) # one per function up to the cap, and the spare
		for ((i = 0; i < 600; i++)); do # workers start, and end for room, in the background
			mapfile -t workers < <(pgrep -P "$VERGE_PID")
			((${#workers[@]} == want)) && break
			sleep 0.1
		done
		((${#workers[@]} == want)) || log "mem: WARNING: ${#workers[@]} worker processes after 60 s, want $want"
		node_pss=$(mem_kib Pss "$VERGE_PID") node_rss=$(mem_kib Rss "$VERGE_PID")
		w_pss=$(mem_kib Pss "${workers[@]}") w_rss=$(mem_kib Rss "${workers[@]}")
		MEM_ROWS+=("$(printf '| %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |' "$n" "${#workers[@]}" \
			"$((node_pss / 1024))" "$((w_pss / 1024))" "$(((node_pss + w_pss) / 1024))" \
			"$(((node_pss + w_pss) / n))" "$(((node_rss + w_rss) / 1024))" "$(((node_rss + w_rss) / n))")")
		log "mem: ${MEM_ROWS[-1]}"
		# /f1 .. /f5 were called least recently: past the cap their workers were ended, and the
		# call starts one again. /fN's worker runs. Five calls each, one at a time.
		cold=() warm=()
		for ((i = 1; i <= 5; i++)); do
			((n <= MEM_WORKERS)) || cold+=("$(mem_call_ms "/f$i/x")") # under the cap, none was ended
			warm+=("$(mem_call_ms "/f$n/x")")
		done
		MEM_CALLS+=("| $n | ${cold[*]:-none ended} | ${warm[*]} |")
		for ((i = 0; i < 9000; i++)); do # MEM_IDLE after the last call, the workers end: the spare is left
			mapfile -t workers < <(pgrep -P "$VERGE_PID")
			((${#workers[@]} == 1)) && break
			sleep 0.1
		done
		((${#workers[@]} == 1)) || log "mem: WARNING: ${#workers[@]} worker processes after 15 min, want the spare (is MEM_IDLE longer?)"
		node_pss=$(mem_kib Pss "$VERGE_PID") node_rss=$(mem_kib Rss "$VERGE_PID")
		w_pss=$(mem_kib Pss "${workers[@]}") w_rss=$(mem_kib Rss "${workers[@]}")
		MEM_IDLE_ROWS+=("$(printf '| %d | %d | %.0f | %.0f | %.0f | %.0f |' "$n" "${#workers[@]}" \
			"$((node_pss / 1024))" "$((w_pss / 1024))" "$(((node_pss + w_pss) / 1024))" "$(((node_rss + w_rss) / 1024))")")
		log "mem: idle: ${MEM_IDLE_ROWS[-1]}"
		stop "$VERGE_PID"
	done
fi

if has busy; then
	for n in $BUSY_COUNTS; do
		start_many "verge-busy-$n" "$n" "$BENCH/functions/any-to-1k.js"
		lua="$TMP/busy-$n.lua"
		printf 'local i = 0\nrequest = function() i = i + 1; return wrk.format("GET", "/f" .. (i %% %d + 1) .. "/x") end\n' "$n" >"$lua"
		wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$lua" "http://127.0.0.1:$VERGE_PORT/" >/dev/null
		r0=$(reclaims)
		out="$OUT/busy-$n.txt"
		printf '%s\n' "wrk -t$THREADS -c$CONNS -d$DURATION -s $lua http://127.0.0.1:$VERGE_PORT/" >>"$OUT/commands.txt"
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$lua" "http://127.0.0.1:$VERGE_PORT/" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
		r1=$(reclaims)
		mapfile -t workers < <(pgrep -P "$VERGE_PID")
		w_busy=$(mem_kib Pss "${workers[@]}")
		sleep 1.5 # a worker gives its free heap back 1 s after its last call (procScaler.rest)
		w_rest=$(mem_kib Pss "${workers[@]}")
		BUSY_ROWS+=("$(printf '| %d | %s | %s | %d | %d | %.0f | %.0f |' "$n" "$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$out")" \
			"$(awk '/Non-2xx|Socket errors/ { e = e $0 " " } END { print e ? e : "0" }' "$out")" "${#workers[@]}" "$((r1 - r0))" \
			"$((w_busy / 1024))" "$((w_rest / 1024))")")
		log "busy: ${BUSY_ROWS[-1]}"
		stop "$VERGE_PID"
	done
fi

stop "$ORIGIN_PID"

# --- report -----------------------------------------------------------------------------------

{
	if ((${#RESULTS[@]})); then
		printf '\nCache hits, wrk -t%s -c%s -d%s --latency, %s; %s CPUs, nginx worker_processes %s, Verge GOMAXPROCS %s\n\n' \
			"$THREADS" "$CONNS" "$DURATION" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$NGINX_WORKERS" \
			"${GOMAXPROCS:-$(nproc)}"
		printf '%s\n' "${RESULTS[@]}" | awk -v rounds="$ROUNDS" '
			function ms(us) { return sprintf("%.2f ms", us / 1000) }
			function median(list,   v, n, i, j, t) { # of space-separated numbers
				n = split(list, v, " ")
				for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
				return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			}
			function row(name, r, vr, nr, v50, n50, v99, n99, tail) {
				printf "| %s | %s | %.0f | %.0f | %.2fx | %s | %s | %.2fx | %s | %s | %.2fx | %s |\n",
					name, r, vr, nr, vr / nr, ms(v50), ms(n50), v50 / n50, ms(v99), ms(n99), v99 / n99, tail
			}
			{ k = $1 " " $2; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 }
			  rps[k, $3] = $4; p50[k, $3] = $5; p99[k, $3] = $6; err[k, $3] = $7; oth[k, $3] = $8
			  all[$1, $3, "rps"] = all[$1, $3, "rps"] " " $4
			  all[$1, $3, "p50"] = all[$1, $3, "p50"] " " $5
			  all[$1, $3, "p99"] = all[$1, $3, "p99"] " " $6 }
			END {
				print "| scenario | round | Verge req/s | nginx req/s | ratio | Verge p50 | nginx p50 | ratio | Verge p99 | nginx p99 | ratio | errors, others% V/n |"
				print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
				for (i = 0; i < n; i++) {
					s = order[i]
					for (r = 1; r <= rounds; r++) {
						k = s " " r
						row(s, r, rps[k, "verge"], rps[k, "nginx"], p50[k, "verge"], p50[k, "nginx"],
							p99[k, "verge"], p99[k, "nginx"],
							sprintf("%d/%d, %d/%d", err[k, "verge"], err[k, "nginx"], oth[k, "verge"], oth[k, "nginx"]))
					}
					if (rounds > 1)
						row(s, "median", median(all[s, "verge", "rps"]), median(all[s, "nginx", "rps"]),
							median(all[s, "verge", "p50"]), median(all[s, "nginx", "p50"]),
							median(all[s, "verge", "p99"]), median(all[s, "nginx", "p99"]), "")
				}
			}'
		printf '\nratio = Verge / nginx: above 1 is better for req/s, below 1 is better for latency.\n'
		printf 'js = 1 KiB hits with one viewer-response JS function (Verge) vs njs js_header_filter (nginx).\n'
		! has sendpath || printf 'sp-MODE-SIZE rows: the "Verge" columns are bench/sendpath -mode MODE, a bare server, not Verge; its spool was on %s.\n' "$SPOOL_FS"
		printf 'errors = wrk socket errors + non-2xx; others%% = CPU that other processes (and steal) took during the run.\n'
		[[ -z $JS_NOTE ]] || printf '%s\n' "$JS_NOTE"
	fi
	if ((${#MEM_ROWS[@]})); then
		printf '\nmem: a node with N uploaded functions, each associated and run once (worker processes include the spare)\n\n'
		printf '| functions | workers | node PSS MiB | workers PSS MiB | total PSS MiB | PSS KiB per function | total RSS MiB | RSS KiB per function |\n'
		printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
		printf '%s\n' "${MEM_ROWS[@]}"
		printf '\nmem: calls, ms (curl time_total, five each): to a function whose worker was ended for room (cap %d), then to one whose worker runs\n\n' "$MEM_WORKERS"
		printf '| functions | ended for room | running |\n|---:|---|---|\n'
		printf '%s\n' "${MEM_CALLS[@]}"
		printf '\nmem: the same nodes once every worker went %s without a call (server.function_worker_idle) and was ended\n\n' "$MEM_IDLE"
		printf '| functions | workers | node PSS MiB | workers PSS MiB | total PSS MiB | total RSS MiB |\n|---:|---:|---:|---:|---:|---:|\n'
		printf '%s\n' "${MEM_IDLE_ROWS[@]}"
	fi
	if ((${#BUSY_ROWS[@]})); then
		printf '\nbusy: N uploaded functions called in turn under wrk -t%s -c%s -d%s, server.max_function_workers %d (worker processes include the spare)\n\n' \
			"$THREADS" "$CONNS" "$DURATION" "$MEM_WORKERS"
		printf '| functions | req/s | errors | workers at the end | ended for room during the run | their PSS MiB at the end | 1.5 s later |\n|---:|---:|---|---:|---:|---:|---:|\n'
		printf '%s\n' "${BUSY_ROWS[@]}"
	fi
	((OTHERS_MAX < 10)) || printf 'WARNING: other processes took up to %d%% of the CPUs during a run: compare rounds, rerun on a quiet box.\n' "$OTHERS_MAX"
	printf '\nCommands (measured runs, in order):\n'
	sed 's/^/  /' "$OUT/commands.txt" 2>/dev/null || true
	printf '  verge serve --config OUT/verge[-js].yaml --listen 127.0.0.1:0 --admin 127.0.0.1:0 --data TMP/data\n'
	printf '    (verge: %s)\n' "$VERGE_FROM"
	printf '  %s -p TMP/ -c TMP/nginx/proxy[-njs].conf -e TMP/nginx-NAME.err   (%s)\n' "$NGINX" \
		"$("$NGINX" -v 2>&1 | sed 's/.*version: //')"
	printf 'OUT = %s: raw wrk outputs, the rendered configs, this table.\n' "$OUT"
} | tee "$OUT/table.md"
