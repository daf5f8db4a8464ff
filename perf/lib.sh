# Shell functions of perf/servers (samples/bench/ab keeps its own copy, so that the samples do not
# depend on perf/). Source it; it defines functions only.

# cpu_ticks PID...: utime + stime of the processes so far, in clock ticks (getconf CLK_TCK per
# second); a process that is gone counts 0.
cpu_ticks() {
  local total=0 p t
  for p in "$@"; do
    t=$(awk '{ sub(/.*\) /, ""); print ($12 + $13) }' "/proc/$p/stat" 2>/dev/null) || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# sys_ticks PID...: stime alone (the kernel's part of cpu_ticks), same units.
sys_ticks() {
  local total=0 p t
  for p in "$@"; do
    t=$(awk '{ sub(/.*\) /, ""); print $13 }' "/proc/$p/stat" 2>/dev/null) || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# nginx_conf FILE DIR PORT: writes FILE, an nginx configuration with 1 worker on 127.0.0.1:PORT
# that answers every request with the same 14-byte body; its pid file, error log and temporary
# files go to DIR.
nginx_conf() {
  local file=$1 dir=$2 port=$3
  mkdir -p "$dir/nginx-tmp"
  cat > "$file" <<NGX
worker_processes 1;
pid $dir/nginx-$port.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $dir/nginx-tmp;
  fastcgi_temp_path $dir/nginx-tmp;
  uwsgi_temp_path $dir/nginx-tmp;
  scgi_temp_path $dir/nginx-tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 "Hello, world!\n"; }
  }
}
NGX
}
