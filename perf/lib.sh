# Shell functions of perf/servers (samples/bench/ab keeps its own copy, so that the samples do not
# depend on perf/). Source it; it defines functions only.

# cpu_sys_ticks PID...: "CPU SYS", the processes' utime + stime so far and the stime (kernel)
# part of it, in clock ticks (getconf CLK_TCK per second), read once; a process that is gone
# counts 0.
cpu_sys_ticks() {
  local cpu=0 sys=0 p u k
  for p in "$@"; do
    read -r u k < <(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$p/stat" 2>/dev/null) || { u=0 k=0; }
    cpu=$((cpu + ${u:-0} + ${k:-0})); sys=$((sys + ${k:-0}))
  done
  echo "$cpu $sys"
}

# cpu_ticks PID...: utime + stime alone.
cpu_ticks() {
  local cpu sys
  read -r cpu sys < <(cpu_sys_ticks "$@")
  echo "$cpu"
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
