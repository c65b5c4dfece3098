#!/usr/bin/env python3
"""A DNS responder on 127.0.0.1 that answers each query with forged replies first.

For every query it sends, in order: a reply with another ID, a reply without the QR bit, a
reply to another question, a reply from another source port, and garbage; each one carries
TXT "PVOK", so a client that takes the first datagram passes. Then, unless --only-forged, the
real reply (TXT "PVOK" for the question asked). Prints "ready PORT" once it listens.
Python standard library only.
"""
import argparse
import signal
import socket
import struct
import sys


def question_end(packet):
    i = 12
    while packet[i] != 0:
        i += 1 + packet[i]
    return i + 1 + 4  # the root label, QTYPE, QCLASS


def reply(query, ident=None, qr=True, question=None):
    qid = struct.unpack("!H", query[:2])[0] if ident is None else ident
    q = query[12:question_end(query)] if question is None else question
    flags = (0x8000 if qr else 0) | 0x0400  # QR, AA
    header = struct.pack("!HHHHHH", qid, flags, 1, 1, 0, 0)
    txt = b"\x04PVOK"
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(txt)) + txt
    return header + q + answer


def main():
    # A parent may have left SIGTERM ignored (it is inherited across exec): be killable.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--only-forged", action="store_true")
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    print("ready %d" % s.getsockname()[1], flush=True)
    other_question = b"\x05other\x04test\x00" + struct.pack("!HH", 16, 1)
    while True:
        query, peer = s.recvfrom(4096)
        if len(query) < 17:
            continue
        qid = struct.unpack("!H", query[:2])[0]
        s.sendto(reply(query, ident=(qid + 1) & 0xFFFF), peer)
        s.sendto(reply(query, qr=False), peer)
        s.sendto(reply(query, question=other_question), peer)
        other.sendto(reply(query), peer)
        s.sendto(b"\x00\x01garbage", peer)
        if not args.only_forged:
            s.sendto(reply(query), peer)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
