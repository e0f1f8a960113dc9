#!/usr/bin/env python3
"""Creates N products in a running feria through its HTTP API (for bench/catalog.sh).

usage: load_catalog.py BASE_URL TOKEN COUNT
Prints one line: "<count> products in <seconds> s". Standard library only.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

CUTS = ["Bife de chorizo", "Ojo de bife", "Vacío", "Entraña", "Asado", "Lomo", "Matambre", "Bondiola", "Chorizo", "Morcilla",
        "Jamón crudo", "Salame", "Queso", "Provoleta", "Malbec", "Cerveza", "Pan", "Empanadas", "Milanesas", "Hamburguesas"]
STYLES = ["premium", "clásico", "ahumado", "madurado", "de campo", "casero", "especial", "selección", "familiar", "light"]
WORDS = ["jugoso", "tierno", "parrilla", "horno", "estacionado", "artesanal", "fresco", "congelado", "orgánico", "pastoril"]
TAGS = ["popular", "oferta", "combo", "premium"]


def request(conn, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return json.loads(data)


def main():
    base, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    categories = [request(conn, "POST", "/api/categories", token, {"name": f"Categoría {i}", "description": "Bench"})["id"] for i in range(10)]
    unit = request(conn, "POST", "/api/units", token, {"name": "Unidad", "description": "Bench", "abbreviation": "u"})["id"]
    started = time.time()
    threads, per_thread = 8, (count + 7) // 8

    def worker(first):
        c = http.client.HTTPConnection(url.hostname, url.port)
        for n in range(first, min(first + per_thread, count)):
            body = {
                "name": f"{CUTS[n % len(CUTS)]} {STYLES[(n // len(CUTS)) % len(STYLES)]} {n}",
                "description": " ".join(WORDS[(n * k) % len(WORDS)] for k in (1, 3, 7)),
                "price": 1000 + (n * 37) % 50000,
                "stock": (n * 13) % 40,
                "category": categories[n % len(categories)],
                "unit": unit,
                "tags": [TAGS[n % len(TAGS)]],
                "sku": f"BENCH-{n}",
            }
            request(c, "POST", "/api/products", token, body)

    pool = [threading.Thread(target=worker, args=(i * per_thread,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(f"{count} products in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
