#!/usr/bin/env bash
# Sets up a checkout: the virtual environment in .venv with the platform and its tools.
# With --test, also the Debian packages the test suite needs (Kamailio, SIPp, espeak-ng, sox, Chromium, and
# nats-server, which the message-queue tests start with users and permissions of their own).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ "$want_test" = 1 ]; then
  debs=(kamailio kamailio-utils-modules kamailio-extra-modules sip-tester espeak-ng sox libsox-fmt-base chromium
        nats-server)
  missing=()
  for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import hotline.cli; hotline.cli.mount()" # fails loudly if the install did not work
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The dispatch model is built from the shared training data, never committed (no cross-validation here:
# `hotline dispatch train` without --folds 0 prints the 5-fold scores, in about five minutes).
export HOTLINE_DATA_DIR="${HOTLINE_DATA_DIR:-$PWD/var}"
.venv/bin/hotline dispatch train --if-missing --folds 0 \
  || echo "setup: 派单模型未生成（训练数据缺失？），hotline dispatch predict 首次使用时会自动训练"

# The knowledge search's answer model is learned from the shared answered messages (replies_queries_dev.csv,
# each with the id of its official reply in replies_corpus.csv): `hotline kb learn`, about half a minute.
training="${HOTLINE_TRAINING_DATA:-$PWD/../shared/data}"
if [ -f "$training/replies_queries_dev.csv" ] && [ -f "$training/replies_corpus.csv" ]; then
  .venv/bin/hotline kb learn --if-missing --pairs "$training/replies_queries_dev.csv" --article-column reply_id \
    --articles "$training/replies_corpus.csv" --article-id-column reply_id --article-body-column reply \
    || echo "setup: 知识库答复模型未生成，检索照常进行（不含学习所得的排序特征）"
fi
