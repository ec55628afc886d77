#!/usr/bin/env python3
"""A folder mounted through FUSE whose fsync takes a fixed extra time: a slow disk, on demand.

Usage: scripts/slowfs.py BACKING_DIR MOUNTPOINT [FSYNC_MS]   (default 50 ms; runs in the foreground)
       fusermount -u MOUNTPOINT                              (unmounts it)

Every call passes through to BACKING_DIR; fsync of a file or a folder sleeps FSYNC_MS first,
as a busy or networked disk does. For benchmarks only (scripts/bench-stats-under-publishing.sh
with SLOW_FSYNC_MS). Needs the fuse3 and libfuse2 Debian packages and fusepy from PyPI.
"""
import errno, os, sys, time

from fuse import FUSE, FuseOSError, Operations


class SlowSync(Operations):
    def __init__(self, root, delay):
        self.root = root
        self.delay = delay

    def _path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def access(self, path, mode):
        if not os.access(self._path(path), mode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        return {key: getattr(st, key) for key in ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._path(path))

    def readlink(self, path):
        return os.readlink(self._path(path))

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def symlink(self, name, target):
        os.symlink(target, self._path(name))

    def link(self, target, name):
        os.link(self._path(name), self._path(target))

    def unlink(self, path):
        os.unlink(self._path(path))

    def rename(self, old, new):
        os.rename(self._path(old), self._path(new))

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid)

    def truncate(self, path, length, fh=None):
        with open(self._path(path), "r+b") as f:
            f.truncate(length)

    def utimens(self, path, times=None):
        os.utime(self._path(path), times)

    def open(self, path, flags):
        return os.open(self._path(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, length, offset, fh):
        os.lseek(fh, offset, os.SEEK_SET)
        return os.read(fh, length)

    def write(self, path, data, offset, fh):
        os.lseek(fh, offset, os.SEEK_SET)
        return os.write(fh, data)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        time.sleep(self.delay)
        os.fsync(fh)

    def opendir(self, path):
        return 0

    def fsyncdir(self, path, datasync, fh):
        time.sleep(self.delay)


if __name__ == "__main__":
    backing, mountpoint = sys.argv[1], sys.argv[2]
    delay = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.05
    FUSE(SlowSync(os.path.abspath(backing), delay), mountpoint, foreground=True, nothreads=False)
