# lvs-rs-operator container image: `podman build -t lvs-rs-operator .` (or docker build).
# Two stages on Debian bookworm: the build stage has the compiler and the -dev packages; the
# runtime stage has only the shared libraries the binary and its HTTP client plugin link, found
# with ldd + dpkg -S so the list stays right as subsystems (metrics, kube) add libraries.

FROM docker.io/library/debian:bookworm-slim AS build
# The machines this is built on have 2 cores shared with other work: `--build-arg JOBS=N` for more.
ARG JOBS=2
# The -dev packages of scripts/deps/{core,metrics}.txt, without the test-only ones.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make cmake pkg-config \
      libnl-3-dev libnl-route-3-dev nlohmann-json3-dev libyaml-cpp-dev \
      libcpprest-dev libssl-dev prometheus-cpp-dev libcivetweb-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore lets in only CMakeLists.txt, operator/ and cmake/ (tests are not built here).
COPY . .
# Build, strip, and record the Debian packages that own the shared libraries the binary and its
# HTTP client plugin need (libc6 and friends are in the base already; apt-get skips them). The
# prefix /usr makes the binary look for the plugin in /usr/lib/lvs-rs-operator when it runs from
# /usr/sbin (operator/kube/http_plugin.h). /build is removed in the same step so the cached layer
# holds only /out.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=/usr \
 && cmake --build /build --target lvs-rs-operator -j"${JOBS}" \
 && mkdir /out \
 && strip -o /out/lvs-rs-operator /build/lvs-rs-operator \
 && strip -o /out/lvs-rs-operator-http.so /build/lvs-rs-operator-http.so \
 && rm -rf /build \
 && /out/lvs-rs-operator version \
 && ldd /out/lvs-rs-operator /out/lvs-rs-operator-http.so | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u \
  | while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib"; done \
  | cut -d: -f1 | sort -u > /out/runtime-packages.txt \
 && echo "runtime packages:" $(cat /out/runtime-packages.txt)

FROM docker.io/library/debian:bookworm-slim
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /tmp/runtime-packages.txt
COPY --from=build /out/lvs-rs-operator /usr/sbin/lvs-rs-operator
COPY --from=build /out/lvs-rs-operator-http.so /usr/lib/lvs-rs-operator/lvs-rs-operator-http.so
LABEL org.opencontainers.image.title="lvs-rs-operator" \
      org.opencontainers.image.description="Kubernetes node operator for LVS-DR real servers: VIPs on lo, host routes, ARP sysctls"
ENTRYPOINT ["lvs-rs-operator"]
CMD ["run"]
