"""Talk to an FRR daemon's vty socket the way vtysh does.

Each command is sent NUL-terminated; the daemon answers with its output
followed by three NUL bytes and a status byte (CMD_SUCCESS = 0, ...).
"""
import socket

CMD_SUCCESS = 0
CMD_WARNING = 1
CMD_ERR_NO_MATCH = 2
CMD_ERR_AMBIGUOUS = 3
CMD_ERR_INCOMPLETE = 4
CMD_WARNING_CONFIG_FAILED = 13


class VtyError(Exception):
    pass


class Vty:
    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def cmd(self, line):
        """Run one command; return (status, output)."""
        self.sock.sendall(line.encode() + b"\0")
        while True:
            idx = self.buf.find(b"\0\0\0")
            if idx >= 0 and len(self.buf) >= idx + 4:
                out = self.buf[:idx].decode(errors="replace")
                status = self.buf[idx + 3]
                self.buf = self.buf[idx + 4:]
                return status, out
            chunk = self.sock.recv(65536)
            if not chunk:
                raise VtyError("daemon closed the vty connection")
            self.buf += chunk

    def run(self, line):
        """Run one command that must succeed; return its output."""
        status, out = self.cmd(line)
        if status != CMD_SUCCESS:
            raise VtyError(f"{line!r} failed ({status}): {out}")
        return out

    def configure(self, lines):
        """Enter config mode and run each line; return [(status, out)]."""
        self.run("enable")
        self.run("configure terminal")
        results = [self.cmd(l) for l in lines]
        self.cmd("end")
        return results
