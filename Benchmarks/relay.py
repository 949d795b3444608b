"""The peer: a straightforward Python relay of the kind users write today.

Reads input events, keeps one button's state, and sends the 8-byte VKBShiftBitmap packet
with socket.sendall when the shift state changes; on a send error it reconnects (retrying
every second) and sends the packet again. Like most such scripts it notices a dead server
only when a send fails. It does set TCP_NODELAY, as the usual advice says, so the figures
compare designs rather than Nagle's algorithm.

usage: relay.py INPUT PORT CODE   (INPUT: a FIFO of raw struct input_event;
                                   CODE: the key code that drives shift1, held)
"""

import os
import socket
import struct
import sys
import time

EVENT = struct.Struct("qqHHi")  # struct input_event on 64-bit Linux
EV_KEY = 1


def connect(port):
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError:
            time.sleep(1)


def packet(shift):
    return bytes([0xA5, 0x0D, 0, 4, shift, 0, 0, 0])


def main():
    path, port, code = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0)
    device = os.open(path, os.O_RDONLY)
    sock = connect(port)
    state = 0
    while True:
        data = os.read(device, EVENT.size * 64)
        if not data:
            return
        for _sec, _usec, type_, code_, value in EVENT.iter_unpack(data):
            if type_ != EV_KEY or code_ != code or value > 1:
                continue
            new = 1 if value else 0
            if new == state:
                continue
            state = new
            try:
                sock.sendall(packet(state))
            except OSError:
                sock.close()
                sock = connect(port)
                sock.sendall(packet(state))


if __name__ == "__main__":
    main()
