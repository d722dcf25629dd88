# lvs-rs-operator container image: `podman build -t lvs-rs-operator .` (or docker build).
# Two stages on Debian bookworm: the build stage has the compiler and the -dev packages; the
# runtime stage has only the shared libraries the binary links, found with ldd + dpkg -S so the
# list stays right as subsystems (metrics, kube) add libraries.

FROM docker.io/library/debian:bookworm-slim AS build
ARG JOBS=2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make cmake pkg-config \
      libnl-3-dev libnl-route-3-dev nlohmann-json3-dev libyaml-cpp-dev \
      libcpprest-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build --target lvs-rs-operator -j"${JOBS}" \
 && mkdir /out \
 && strip -o /out/lvs-rs-operator /build/lvs-rs-operator \
 && /out/lvs-rs-operator version
# The Debian packages that own the shared libraries the binary needs (libc6 and friends are
# already in the base; apt-get skips them).
RUN ldd /out/lvs-rs-operator | awk '$2 == "=>" && $3 ~ /^\// {print $3}' \
  | while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib"; done \
  | cut -d: -f1 | sort -u > /out/runtime-packages.txt \
 && cat /out/runtime-packages.txt

FROM docker.io/library/debian:bookworm-slim
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /tmp/runtime-packages.txt
COPY --from=build /out/lvs-rs-operator /usr/local/bin/lvs-rs-operator
LABEL org.opencontainers.image.title="lvs-rs-operator" \
      org.opencontainers.image.description="Kubernetes node operator for LVS-DR real servers: VIPs on lo, host routes, ARP sysctls"
ENTRYPOINT ["lvs-rs-operator"]
CMD ["run"]
