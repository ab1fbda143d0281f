# shellcheck shell=bash
# The CPU model server for model-serving endpoints: llama-server built from the llama.cpp
# source that node-llama-cpp ships, and seeded random-weight demo models (random text).
# Both are cached: the build (7-11 min on 2 cores) runs once per machine and llama.cpp
# release; the models are regenerated only when the generator changes. stack/up starts a
# build in the background (stack/build-llama) and goes on: LLAMA_STATUS says how it went,
# for stack/status, the end of stack/up and the bridge (serving.providers.local.buildStatus:
# a local endpoint waits while the build runs and starts once the binary is there).

LLAMA_NPM_PACKAGE=node-llama-cpp@3.21.1
# Both overridable from the environment (tests of these functions use folders under /tmp).
HPC_CACHE=${HPC_CACHE:-/var/cache/hpc-bridge}
LLAMA_DIR=${HPC_LLAMA_DIR:-/opt/hpc-bridge/llama}
LLAMA_NPM_DIR=$HPC_CACHE/node-llama-cpp-3.21.1
LLAMA_BUNDLE=$LLAMA_NPM_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle
LLAMA_SERVER=$LLAMA_DIR/bin/llama-server
MODELS_DIR=${HPC_MODELS_DIR:-/opt/hpc-bridge/models}
# state=building|ready|failed, since=ISO time, pid= of the build, log= its log. One per
# machine, like the binary it describes (every stack on the machine shares it).
LLAMA_STATUS=$LLAMA_DIR/status
LLAMA_LOCK=$HPC_CACHE/.llama.lock
# NAME:SIZE:SEED for stack/models/make-gguf.mjs; the catalog in bridge-config.yaml names them.
DEMO_MODELS=(tiny-random:tiny:42 small-random:small:42)

# llama.cpp's source only, from the npm package (not a dependency of the repo): the
# optional dependencies are prebuilt binaries, and the install scripts would build the
# node addon, which the stack does not use.
fetch_llama_source() {
  [[ -s $LLAMA_BUNDLE ]] && return
  log "llama: npm install $LLAMA_NPM_PACKAGE (for llama.cpp's source) into $LLAMA_NPM_DIR"
  mkdir -p "$LLAMA_NPM_DIR"
  (cd "$LLAMA_NPM_DIR" && npm install -E "$LLAMA_NPM_PACKAGE" --omit=optional --ignore-scripts \
    --no-audit --no-fund --prefix "$LLAMA_NPM_DIR") >"$LOG_DIR/llama-npm.log" 2>&1 ||
    die "npm install $LLAMA_NPM_PACKAGE failed (see $LOG_DIR/llama-npm.log)"
  [[ -s $LLAMA_BUNDLE ]] || die "$LLAMA_BUNDLE is missing after npm install"
}

# The llama.cpp release in the bundle: its tag and commit, e.g. v0.4.0-80fb11a.
llama_release() {
  local info tag commit
  info="$(dirname "$LLAMA_BUNDLE")/llama.cpp.info.json"
  tag="$(node -p "require('$info').tag")"
  commit="$(git bundle list-heads "$LLAMA_BUNDLE" | awk '$2 == "HEAD" { print substr($1, 1, 7) }')"
  [[ -n $tag && -n $commit ]] || die "cannot read the llama.cpp release from $LLAMA_BUNDLE"
  printf '%s-%s' "$tag" "$commit"
}

# build_llama_server DEST: clones the bundle and builds a static llama-server into DEST.
# The compiler's output goes to the end of LOG_DIR/llama-build.log.
build_llama_server() {
  local dest=$1 work
  work="$(mktemp -d "$HPC_CACHE/build.XXXXXX")"
  log "llama: building llama-server (cmake, -j2; 7-11 minutes on 2 cores; log $LOG_DIR/llama-build.log)"
  # && throughout: set -e does not hold in a subshell whose status `if` tests.
  if ! (
    git clone -q "$LLAMA_BUNDLE" "$work/src" &&
      cd "$work/src" &&
      cmake -B build -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF &&
      cmake --build build --target llama-server -j2
  ) >>"$LOG_DIR/llama-build.log" 2>&1; then
    tail -n 20 "$LOG_DIR/llama-build.log" >&2
    rm -rf "$work"
    die "llama-server build failed (see $LOG_DIR/llama-build.log)"
  fi
  install -d -m 755 "$dest.new/bin"
  install -m 755 "$work/src/build/bin/llama-server" "$dest.new/bin/llama-server"
  rm -rf "$work" "$dest"
  mv "$dest.new" "$dest"
}

install_llama_server() {
  mkdir -p "$HPC_CACHE" "$LOG_DIR"
  (
    # One build at a time per machine (two stacks, or CI jobs, may start together).
    flock 9
    fetch_llama_source
    local release cached
    release="$(llama_release)"
    cached=$HPC_CACHE/llama-server-$release
    if [[ -x $cached/bin/llama-server ]]; then
      log "llama: llama-server $release cached ($cached)"
    else
      build_llama_server "$cached"
    fi
    if ! cmp -s "$cached/bin/llama-server" "$LLAMA_SERVER"; then
      install -d -m 755 "$LLAMA_DIR" "$(dirname "$LLAMA_SERVER")"
      install -m 755 "$cached/bin/llama-server" "$LLAMA_SERVER.new"
      mv -f "$LLAMA_SERVER.new" "$LLAMA_SERVER"
      log "llama: installed $LLAMA_SERVER ($release)"
    fi
  ) 9>"$LLAMA_LOCK"
}

# llama_status_write STATE [PID]: records the build's state for the bridge and the scripts.
# stack/up and the build it started may write at the same moment: each its own temporary file.
llama_status_write() {
  local state=$1 pid=${2:-$$} tmp="$LLAMA_STATUS.$BASHPID.tmp"
  install -d -m 755 "$LLAMA_DIR"
  printf 'state=%s\nsince=%s\npid=%s\nlog=%s\n' "$state" "$(date -Is)" "$pid" \
    "$LOG_DIR/llama-build.log" >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$LLAMA_STATUS"
}

# llama_status_field NAME: a field of LLAMA_STATUS (state, since, pid, log), or nothing.
llama_status_field() { sed -n "s/^$1=//p" "$LLAMA_STATUS" 2>/dev/null | head -n 1; }

# llama_state: ready, building or failed; also "failed" for a build whose process is gone
# (a reboot, a kill) and "missing" when nothing was ever recorded and no binary is there.
llama_state() {
  local state pid
  state="$(llama_status_field state)"
  pid="$(llama_status_field pid)"
  if [[ $state == building ]] && ! { [[ $pid =~ ^[0-9]+$ ]] && process_running "$pid"; }; then
    state=failed
  fi
  if [[ -z $state ]]; then
    if [[ -x $LLAMA_SERVER ]]; then state=ready; else state=missing; fi
  fi
  printf '%s' "$state"
}

# This release's build is in the cache (installing it takes a second).
llama_server_cached() {
  local release
  [[ -s $LLAMA_BUNDLE ]] || return 1
  release="$(llama_release 2>/dev/null)" || return 1
  [[ -x $HPC_CACHE/llama-server-$release/bin/llama-server ]]
}

# Step of stack/up: installs llama-server at once when its build is cached, else starts
# stack/build-llama in its own session (it outlives stack/up), unless a build already runs
# (it holds LLAMA_LOCK). The rest of the stack does not need it.
start_llama_server_build() {
  mkdir -p "$HPC_CACHE" "$LOG_DIR"
  if llama_server_cached; then
    install_llama_server
    [[ $(llama_status_field state) == ready ]] || llama_status_write ready
    return
  fi
  if ! flock -n "$LLAMA_LOCK" true; then
    log "llama: a build is already under way (log $(llama_status_field log))"
    return
  fi
  : >"$LOG_DIR/llama-build.log"
  chmod 600 "$LOG_DIR/llama-build.log"
  # setsid does not fork here (a background job is no group leader), so $! is the build.
  env PATH="$SYSTEM_PATH" setsid nohup nice -n 10 "$REPO_ROOT/stack/build-llama" \
    </dev/null >>"$LOG_DIR/llama-build.log" 2>&1 &
  llama_status_write building "$!"
  log "llama: building llama-server in the background (pid $!, log $LOG_DIR/llama-build.log)"
}

# For the end of stack/up and stack/down: the model server's state in a sentence.
llama_state_sentence() {
  case "$(llama_state)" in
    ready) printf 'ready (%s)' "$LLAMA_SERVER" ;;
    building)
      printf 'still building since %s (pid %s); follow it: tail -f %s' \
        "$(llama_status_field since)" "$(llama_status_field pid)" "$(llama_status_field log)"
      ;;
    *) printf 'build FAILED (see %s); ./stack/up starts it again' "$(llama_status_field log)" ;;
  esac
}

# stack/up --wait-llama (npm test): waits for a build under way to end.
wait_llama_server() {
  local t=$SECONDS
  while [[ $(llama_state) == building ]]; do
    sleep 2
  done
  [[ $(llama_state) == ready ]] || die "llama-server: $(llama_state_sentence)"
  log "llama: ready (waited $((SECONDS - t)) s)"
}

# model_file_ok FILE STAMP: FILE is what STAMP's second line (its sha256) says. The third
# line, its size and time then, spares hashing 87 MB (~0.5 s) on every stack/up and status.
model_file_ok() {
  local file=$1 stamp=$2 digest
  [[ -r $file && -f $stamp ]] || return 1
  if [[ -n $(sed -n 3p "$stamp") && $(sed -n 3p "$stamp") == "$(stat -c '%s %Y' "$file")" ]]; then
    return 0
  fi
  digest="$(file_digest "$file")"
  [[ $(sed -n 2p "$stamp") == "$digest" ]] || return 1
  # An older stamp without the third line, or a file touched but not changed: record it.
  if [[ -w $stamp ]]; then
    printf '%s\n%s\n%s\n' "$(sed -n 1p "$stamp")" "$digest" "$(stat -c '%s %Y' "$file")" >"$stamp"
  fi
}

# Regenerates a model when its file is missing or differs from what the current generator
# with the same size and seed wrote last time (recorded in MODELS_DIR/.NAME.gguf.stamp).
install_demo_models() {
  local generator=$REPO_ROOT/stack/models/make-gguf.mjs entry name size seed file stamp want
  install -d -m 755 "$MODELS_DIR"
  # Jobs may make models of their own with it (a checkout under /root is not theirs to read).
  install -m 644 "$generator" "$MODELS_DIR/make-gguf.mjs"
  for entry in "${DEMO_MODELS[@]}"; do
    IFS=: read -r name size seed <<<"$entry"
    file=$MODELS_DIR/$name.gguf
    stamp=$MODELS_DIR/.$name.gguf.stamp
    want="$(file_digest "$generator") $size $seed"
    if [[ -f $stamp && $(sed -n 1p "$stamp") == "$want" ]] && model_file_ok "$file" "$stamp"; then
      continue
    fi
    node "$generator" --size "$size" --seed "$seed" --out "$file" >/dev/null
    chmod 644 "$file"
    printf '%s\n%s\n%s\n' "$want" "$(file_digest "$file")" "$(stat -c '%s %Y' "$file")" >"$stamp"
    log "llama: generated $file ($(du -h "$file" | cut -f1), random weights)"
  done
  log "llama: models in $MODELS_DIR: ${DEMO_MODELS[*]%%:*} (random weights, random text)"
}

# For stack/status.
llama_server_ok() { [[ -x $LLAMA_SERVER ]] && "$LLAMA_SERVER" --version >/dev/null 2>&1; }
demo_model_ok() { model_file_ok "$MODELS_DIR/$1.gguf" "$MODELS_DIR/.$1.gguf.stamp"; }
