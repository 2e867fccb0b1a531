"""The kernel-level layers applied to each sandbox worker right after it is forked.

- resource limits (address space, CPU, file size, open files, processes, no core dumps);
- no capabilities (so, even as root, the limits cannot be raised again) and no new privileges;
- a seccomp filter: no process creation (fork, vfork, non-thread clone, execve), no sockets, no
  signals to other processes, no limit raising, no mounts/namespaces/ptrace/io_uring/bpf.

Denied system calls fail with EPERM (ENOSYS for clone3, so the C library falls back to clone, where
the flags can be inspected), so a program sees an ordinary ``PermissionError``.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource

# Denied outright (EPERM). Names unknown to this architecture are skipped.
DENIED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "kill", "tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "setrlimit", "mount", "umount2", "unshare", "setns", "pivot_root", "chroot",
    "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "capset",
    "name_to_handle_at", "open_by_handle_at",
)
CLONE_THREAD = 0x00010000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """SIGKILL this process when the process that forked it (the zygote) dies."""
    _libc().prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)


def vm_size_bytes() -> int:
    """Current address-space size of this process."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def set_rlimits(*, memory_mb: int, cpu_seconds: float, file_size_mb: int, max_open_files: int) -> int:
    """Apply the limits; returns the CPU-seconds soft limit (whole seconds, counted from fork)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_used = used.ru_utime + used.ru_stime
    # RLIMIT_CPU has 1-second granularity; soft -> SIGXCPU (a catchable exception), hard -> SIGKILL.
    cpu_soft = int(cpu_used + cpu_seconds) + 1
    limits = {
        resource.RLIMIT_AS: vm_size_bytes() + memory_mb * 2**20,
        resource.RLIMIT_FSIZE: file_size_mb * 2**20,
        resource.RLIMIT_NOFILE: max_open_files,
        resource.RLIMIT_CORE: 0,
        # Only effective when the host uid is not root; seccomp is what really stops forks.
        resource.RLIMIT_NPROC: 1,
    }
    for res, value in limits.items():
        resource.setrlimit(res, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_soft + 1))
    return cpu_soft


def drop_capabilities() -> None:
    """Clear every capability set of this process (bubblewrap already did, the fallbacks did not)."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    libc = _libc()
    hdr, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capset(ctypes.byref(hdr), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def load_seccomp(pid: int) -> bool:
    """Install the filter; False when libseccomp is unavailable (the other layers still hold)."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError):
        return False
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    eperm = sc.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            f.add_rule(eperm, name)
        except (ValueError, OSError):
            pass  # not a system call on this architecture
    f.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))  # threads only
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # flags live in a struct seccomp cannot read
    f.add_rule(eperm, "prlimit64", sc.Arg(2, sc.NE, 0))  # reading limits is fine, setting is not
    f.add_rule(eperm, "tgkill", sc.Arg(0, sc.NE, pid))  # signals only to itself (abort, raise)
    f.load()
    return True
