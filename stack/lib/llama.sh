# shellcheck shell=bash
# The CPU model server for model-serving endpoints: llama-server built from the llama.cpp
# source that node-llama-cpp ships, and seeded random-weight demo models (random text).
# Both are cached: the build (~7 min on 2 cores) runs once per machine and llama.cpp
# release; the models are regenerated only when the generator changes.

LLAMA_NPM_PACKAGE=node-llama-cpp@3.21.1
HPC_CACHE=/var/cache/hpc-bridge
LLAMA_NPM_DIR=$HPC_CACHE/node-llama-cpp-3.21.1
LLAMA_BUNDLE=$LLAMA_NPM_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle
LLAMA_SERVER=/opt/hpc-bridge/llama/bin/llama-server
MODELS_DIR=/opt/hpc-bridge/models
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
build_llama_server() {
  local dest=$1 work
  work="$(mktemp -d "$HPC_CACHE/build.XXXXXX")"
  log "llama: building llama-server (cmake, -j2; about 7 minutes; log $LOG_DIR/llama-build.log)"
  if ! (
    set -e
    git clone -q "$LLAMA_BUNDLE" "$work/src"
    cd "$work/src"
    cmake -B build -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
      -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF
    cmake --build build --target llama-server -j2
  ) >"$LOG_DIR/llama-build.log" 2>&1; then
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
      install -d -m 755 /opt/hpc-bridge /opt/hpc-bridge/llama "$(dirname "$LLAMA_SERVER")"
      install -m 755 "$cached/bin/llama-server" "$LLAMA_SERVER.new"
      mv -f "$LLAMA_SERVER.new" "$LLAMA_SERVER"
      log "llama: installed $LLAMA_SERVER ($release)"
    fi
  ) 9>"$HPC_CACHE/.llama.lock"
}

# Regenerates a model when its file is missing or differs from what the current generator
# with the same size and seed wrote last time (recorded in MODELS_DIR/.NAME.gguf.stamp).
install_demo_models() {
  local generator=$REPO_ROOT/stack/models/make-gguf.mjs entry name size seed file stamp want
  install -d -m 755 "$MODELS_DIR"
  for entry in "${DEMO_MODELS[@]}"; do
    IFS=: read -r name size seed <<<"$entry"
    file=$MODELS_DIR/$name.gguf
    stamp=$MODELS_DIR/.$name.gguf.stamp
    want="$(file_digest "$generator") $size $seed"
    if [[ -f $stamp && $(sed -n 1p "$stamp") == "$want" &&
      $(sed -n 2p "$stamp") == "$(file_digest "$file")" ]]; then
      continue
    fi
    node "$generator" --size "$size" --seed "$seed" --out "$file" >/dev/null
    chmod 644 "$file"
    printf '%s\n%s\n' "$want" "$(file_digest "$file")" >"$stamp"
    log "llama: generated $file ($(du -h "$file" | cut -f1), random weights)"
  done
  log "llama: models in $MODELS_DIR: ${DEMO_MODELS[*]%%:*} (random weights, random text)"
}

# For stack/status.
llama_server_ok() { [[ -x $LLAMA_SERVER ]] && "$LLAMA_SERVER" --version >/dev/null 2>&1; }
demo_model_ok() {
  local name=$1 stamp=$MODELS_DIR/.$1.gguf.stamp
  [[ -r $MODELS_DIR/$name.gguf && -f $stamp &&
    $(sed -n 2p "$stamp") == "$(file_digest "$MODELS_DIR/$name.gguf")" ]]
}
