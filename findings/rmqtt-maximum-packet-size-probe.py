#!/usr/bin/env python3
# Reproducer of findings/rmqtt-maximum-packet-size-margin.md: python3 THIS PORT (an MQTT 5.0 broker on 127.0.0.1).
import socket, struct, sys, time
port=int(sys.argv[1])
def vbi(n):
    out=b''
    while True:
        b=n%128; n//=128
        if n: b|=128
        out+=bytes([b])
        if not n: return out
def s(x): x=x.encode() if isinstance(x,str) else x; return struct.pack('>H',len(x))+x
def pkt(t,body): return bytes([t])+vbi(len(body))+body
def recv_all(sock,wait=1.0):
    sock.settimeout(wait); data=b''
    try:
        while True:
            d=sock.recv(4096)
            if not d: return data,True
            data+=d
    except socket.timeout: return data,False
def run(mps,tam,plen,tag):
    c=socket.create_connection(('127.0.0.1',port))
    props=b'\x27'+struct.pack('>I',mps)+(b'\x22'+struct.pack('>H',tam) if tam else b'')
    c.sendall(pkt(0x10, s('MQTT')+b'\x05\x02'+struct.pack('>H',60)+vbi(len(props))+props+s('mpsprobe'+tag)))
    d,_=recv_all(c,0.5)
    topic='t/'+tag
    c.sendall(pkt(0x82, struct.pack('>H',1)+b'\x02\x0b\x01'+s(topic)+b'\x00'))
    d,_=recv_all(c,0.5)
    c.sendall(pkt(0x30, s(topic)+b'\x00'+b'x'*plen))
    d,closed=recv_all(c,1.0)
    print(f"mps={mps} tam={tam} payload={plen}: received {len(d)} bytes {d[:6].hex(' ')}... closed={closed}")
    c.close()
# forwarded remaining length without alias = 2+len(topic)+1+2+plen
for plen in range(76,83):
    run(100,0,plen,'a%d'%plen)
for plen in range(76,83):
    run(100,10,plen,'b%d'%plen)
