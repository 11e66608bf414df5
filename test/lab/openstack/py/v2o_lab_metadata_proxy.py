"""The lab's stand-in for Neutron's metadata proxy: the conversion host's view of
http://169.254.169.254, on 127.0.0.1.

On a real cloud a guest's request to 169.254.169.254:80 reaches Neutron's namespace proxy
(neutron/conf/agent/l3/config.py metadata_port, default 9697, hence this lab's port 9697 + the
lab's port offset), which hands it to the metadata agent; the agent finds the requester's port by
its address, then forwards the request to Nova's metadata API with the instance's id and project,
signed with the shared secret (neutron/agent/metadata/agent.py MetadataProxyHandler._proxy_request:
X-Instance-ID, X-Tenant-ID, X-Instance-ID-Signature = HMAC-SHA256(metadata_proxy_shared_secret,
instance id), X-Forwarded-For). Nova (nova/api/metadata/handler.py, with [neutron]
service_metadata_proxy = true) checks the signature and answers from its own database: every
document (meta_data.json, network_data.json, ...) is Nova's, not the lab's.

Here every requester is the conversion host (the lab has one machine that runs v2o): the "port
lookup" is the file the bootstrap writes ($V2O_LAB_CONVERSION_HOST_FILE: {"id", "project_id"}),
read per request so a re-bootstrap needs no restart. Only GET and HEAD, as the metadata service.

env: V2O_LAB_METADATA_LISTEN (port), V2O_LAB_NOVA_METADATA (Nova's metadata URL, no path),
     V2O_LAB_METADATA_SECRET, V2O_LAB_CONVERSION_HOST_FILE
"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import sys
import urllib.parse

LISTEN = int(os.environ["V2O_LAB_METADATA_LISTEN"])
NOVA = urllib.parse.urlsplit(os.environ["V2O_LAB_NOVA_METADATA"])
SECRET = os.environ["V2O_LAB_METADATA_SECRET"].encode()
HOST_FILE = os.environ["V2O_LAB_CONVERSION_HOST_FILE"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("metadata-proxy: %s %s\n" % (self.address_string(), fmt % args))

    def _reply(self, code, body, ctype="text/plain", head=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _proxy(self, head):
        try:
            with open(HOST_FILE) as f:
                host = json.load(f)
        except (OSError, ValueError):
            # Neutron's agent answers 404 when it finds no port for the requester
            return self._reply(404, b"404 Not Found\n\nno instance for this address (lab: no conversion host yet)\n",
                               head=head)
        iid = host["id"]
        headers = {
            "X-Forwarded-For": self.client_address[0],
            "X-Instance-ID": iid,
            "X-Tenant-ID": host["project_id"],
            "X-Instance-ID-Signature": hmac.new(SECRET, iid.encode(), hashlib.sha256).hexdigest(),
        }
        try:
            c = http.client.HTTPConnection(NOVA.hostname, NOVA.port, timeout=30)
            c.request("GET", self.path, headers=headers)  # HEAD: the GET's headers, no body
            r = c.getresponse()
            body = r.read()
            c.close()
        except OSError as e:
            return self._reply(500, ("500 Internal Server Error\n\nNova metadata unreachable: %s\n" % e).encode(),
                               head=head)
        self._reply(r.status, body, r.getheader("Content-Type") or "text/plain", head=head)

    def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's naming
        self._proxy(False)

    def do_HEAD(self):  # noqa: N802
        self._proxy(True)


if __name__ == "__main__":
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Handler)
    srv.daemon_threads = True
    srv.serve_forever()
