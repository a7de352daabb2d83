#!/usr/bin/env bash
# Sets up the checkout and starts the platform on SQLite with demo data: http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HOTLINE_DATA_DIR="${HOTLINE_DATA_DIR:-$PWD/var}"
.venv/bin/hotline db upgrade
.venv/bin/hotline demo load
echo "平台已启动：http://${HOTLINE_HOST:-127.0.0.1}:${HOTLINE_PORT:-8000}/  （用上面的演示账号登录，密码另存于 $HOTLINE_DATA_DIR/demo-accounts.txt；API 文档：/docs；消息队列工作进程（接收分中心数据、推送工单事件）随平台运行，状态见随后的「消息队列」提示；Ctrl-C 退出）"
exec .venv/bin/hotline serve
