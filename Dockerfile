# dpfwd: build the artifacts the appliance role deploys, and a runtime image.
#
#   docker build --target artifacts --output type=local,dest=dist .    (BuildKit)
#   ./build.sh artifacts [--debian trixie] [--platform linux/arm64]   (any Docker)
#
# DEBIAN_RELEASE picks the DPDK the data plane links against: bookworm (Debian
# 12, DPDK 22.11, Python 3.11) or trixie (Debian 13, DPDK 24.11, Python 3.13).
# Deploy a wheel to hosts of the same release. WHEELHOUSE builds offline from a
# directory of wheels inside the context (the lab has no registry access).
# BASE_IMAGE: the Debian image's name; build.sh sets arm64v8/debian (Docker
# Hub's arm64 Debian) for an arm64 build where Docker has no buildx.
ARG DEBIAN_RELEASE=bookworm
ARG BASE_IMAGE=debian

FROM ${BASE_IMAGE}:${DEBIAN_RELEASE} AS build
COPY docker/apt-install docker/packages-build /usr/local/share/dpfwd/
RUN /usr/local/share/dpfwd/apt-install /usr/local/share/dpfwd/packages-build
WORKDIR /src
COPY . .
ARG WHEELHOUSE=
RUN docker/build-artifacts.sh /dist

FROM scratch AS artifacts
COPY --from=build /dist/ /

FROM ${BASE_IMAGE}:${DEBIAN_RELEASE} AS runtime
COPY docker/apt-install docker/packages-runtime /usr/local/share/dpfwd/
RUN /usr/local/share/dpfwd/apt-install /usr/local/share/dpfwd/packages-runtime
COPY --from=build /dist/ /tmp/dist/
RUN python3 -m venv /opt/dpfwd \
 && /opt/dpfwd/bin/pip install -q --no-index --find-links /tmp/dist dpfwd \
 && rm -rf /tmp/dist
ENV PATH=/opt/dpfwd/bin:$PATH
# Hugepages: mount the host's hugetlbfs (-v /dev/hugepages:/dev/hugepages).
# Real NICs: --device /dev/vfio/vfio --device /dev/vfio/<group>, the NICs bound
# to vfio-pci on the host, and --ulimit memlock=-1 (DMA mapping pins memory).
# Mount the config at /etc/dpfwd/dpfwd.yaml, or give `run` its own arguments.
# Docker's seccomp profile allows set_mempolicy (EAL's NUMA calls) only with
# --cap-add SYS_NICE. See README, "Container".
ENTRYPOINT ["dpfwd"]
CMD ["run", "--config", "/etc/dpfwd/dpfwd.yaml"]
