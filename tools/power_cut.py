#!/usr/bin/env python3
"""Simulated power cuts: the server's data dir on LazyFS, kill -9, then LazyFS drops every
write not fsynced since the last fsync ("lazyfs::clear-cache"), as a power cut would. After
each cut the server restarts on what is left and every purchase it acknowledged must be
there with its outcome, and every wallet's balance must equal its journal.

A manual check (LazyFS needs FUSE and is built from its own repository, dsrhaslab/lazyfs,
with Debian's fuse3, libfuse3-dev, libspdlog-dev and libtoml11-dev); the test suite's crash
tests cover kill -9, which keeps the page cache.

    lazyfs/build/lazyfs /mnt/lazy --config-path lazyfs.toml -o allow_other \\
        -o modules=subdir -o subdir=/tmp/lazy-root &
    tools/power_cut.py --rewards target/release/rewards --data-dir /mnt/lazy/data \\
        --fifo /tmp/faults.fifo --cycles 5 --load-s 4
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

KEY = "sk_live_Xq7pR2mVt9LkW4zN8cJ5hB3fD6gY1sA0uE"


def start(binary, data_dir):
    env = dict(os.environ)
    env.update({
        "REWARDS__HTTP__BIND": "127.0.0.1:0",
        "REWARDS__METRICS__BIND": "127.0.0.1:0",
        "REWARDS__STORAGE__DATA_DIR": data_dir,
        "REWARDS__BOOTSTRAP__SECRET_API_KEY": KEY,
        "REWARDS__LOG__FILTER": "error",
        # Small segments and quick rounds: many trims, as in the harness.
        "REWARDS__JOURNAL__LOG_SEGMENT_BYTES_MAX": "65536",
        "REWARDS__JOURNAL__DERIVE_FLUSH_MS": "50",
        "REWARDS__ACTORS__SNAPSHOT_EVERY_EVENTS": "5",
    })
    child = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    for line in child.stdout:
        if line.startswith("listening on port "):
            port = int(line.split()[-1])
            threading.Thread(target=lambda: [None for _ in child.stdout], daemon=True).start()
            return child, port
    raise SystemExit(f"the server did not start (exit {child.wait()})")


def call(connection, method, path, body=None):
    headers = {"api_key": KEY, "content-type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def seed(port, contacts):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, _ = call(connection, "POST", "/backoffice/v2/reward_offers",
                     {"name": "10%", "award": {"type": "PERCENTAGE", "value": 10}})
    assert status == 201, status
    made = []
    for n in range(contacts):
        status, contact = call(connection, "POST", "/backoffice/v2/contacts", {"first_name": "Cut", "code": f"CUT-{n}"})
        assert status == 201, (status, contact)
        made.append(contact)
    return made


def load(port, contacts, cycle, seconds, acked, lock):
    stop = time.time() + seconds

    def client(task):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = 0
        while time.time() < stop:
            contact = contacts[(task * 7 + n) % len(contacts)]
            reference = f"C{cycle}-T{task}-N{n}"
            body = {"contact": {"id": contact["id"]}, "reference_number": reference,
                    "transaction_amounts": {"total": 10 + n % 90}}
            if n % 4 == 3:
                body["spend_request"] = {"amount": 1, "restrict_fully_covered": False}
            try:
                status, reply = call(connection, "POST", "/backoffice/v2/purchases", body)
            except Exception:
                return
            if status == 201:
                with lock:
                    acked.append((reply["id"], json.dumps(reply["rewards"], sort_keys=True)))
            n += 1

    threads = [threading.Thread(target=client, args=(task,)) for task in range(8)]
    for thread in threads:
        thread.start()
    return threads


def check(port, contacts, acked):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lost = 0
    for purchase_id, rewards in acked:
        status, stored = call(connection, "GET", f"/backoffice/v2/purchases/{purchase_id}")
        if status != 200 or json.dumps(stored["rewards"], sort_keys=True) != rewards:
            lost += 1
    wrong = 0
    for contact in contacts:
        wallet = contact["wallet"]["id"]
        status, view = call(connection, "GET", f"/backoffice/v2/wallets/{wallet}")
        if status != 200:
            wrong += 1  # the wallet itself is gone
            continue
        lines, page = [], 1
        while True:
            status, journal = call(connection, "GET", f"/backoffice/v2/wallets/{wallet}/journals?size=100&page={page}")
            if status != 200:
                break
            lines += journal["content"]
            if not journal["paging"]["has_more"]:
                break
            page += 1
        total = sum((1 if line["type"] == "CREDIT" else -1) * round(line["amount"] * 100) for line in lines)
        if round(view["total_balance"] * 100) != total:
            wrong += 1
    return lost, wrong


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rewards", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--fifo", required=True)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--load-s", type=float, default=4)
    parser.add_argument("--contacts", type=int, default=20)
    arguments = parser.parse_args()
    child, port = start(arguments.rewards, arguments.data_dir)
    contacts = seed(port, arguments.contacts)
    acked, lock = [], threading.Lock()
    total_lost = 0
    for cycle in range(arguments.cycles):
        threads = load(port, contacts, cycle, arguments.load_s, acked, lock)
        time.sleep(arguments.load_s * 0.8)
        child.send_signal(signal.SIGKILL)
        child.wait()
        for thread in threads:
            thread.join()
        with open(arguments.fifo, "w") as fifo:
            fifo.write("lazyfs::clear-cache\n")
        time.sleep(1)
        child, port = start(arguments.rewards, arguments.data_dir)
        lost, wrong = check(port, contacts, acked)
        total_lost = lost
        print(f"cut {cycle + 1}: {len(acked)} purchases acknowledged so far, {lost} lost, "
              f"{wrong} of {len(contacts)} wallets gone or not equal to their journal", flush=True)
    child.send_signal(signal.SIGKILL)
    child.wait()
    sys.exit(1 if total_lost else 0)


if __name__ == "__main__":
    main()
