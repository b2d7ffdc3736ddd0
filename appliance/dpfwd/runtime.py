"""Where EAL keeps an instance's runtime files (its telemetry socket among
them). Plain paths: readers find instances without loading DPDK."""
import os

# The systemd unit runs EAL with XDG_RUNTIME_DIR=/run/dpfwd.
SERVICE_RUNTIME_DIR = "/run/dpfwd/dpdk"


def runtime_dir():
    """Where EAL keeps runtime files: /var/run/dpdk for root, else XDG_RUNTIME_DIR."""
    if os.geteuid() == 0:
        return "/var/run/dpdk"
    return os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")


def instance_dir(instance):
    """The runtime directory of a running instance: this user's, else the service's."""
    for base in (runtime_dir(), SERVICE_RUNTIME_DIR):
        path = os.path.join(base, instance)
        if os.path.exists(os.path.join(path, "dpdk_telemetry.v2")):
            return path
    return os.path.join(runtime_dir(), instance)
