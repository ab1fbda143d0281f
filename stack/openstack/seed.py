"""Seeds the stack's OpenStack for the demo (idempotent): catalog, projects, users, the
bridge's application credential, flavors, image, network, security group, quotas.

Usage: seed.py OS_DIR (the stack's openstack state folder with secrets/, bridge.password).
Writes OS_DIR/appcred.id, appcred.secret, admin.json (mode 600) and cloud.json (names, no
secrets). Never prints a secret.
"""

import json
import os
import sys
import time

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

AUTH_URL = "http://127.0.0.1:5000/v3"
REGION = "RegionOne"
PROJECT = "hpc-demo"
BRIDGE_USER = "hpc-bridge"
APPCRED_NAME = "hpc-bridge-stack"
SERVICES = [
    # (type, name, URL, Keystone user or None)
    ("placement", "placement", "http://127.0.0.1:8778", "placement"),
    ("image", "glance", "http://127.0.0.1:9292", "glance"),
    ("network", "neutron", "http://127.0.0.1:9696", "neutron"),
    ("compute", "nova", "http://127.0.0.1:8774/v2.1", "nova"),
]
FLAVORS = [
    # name, vcpus, ram MB, disk GB, extra specs
    ("g1.gpu", 1, 1024, 1, {"resources:VGPU": "1"}),
    ("g2.gpu", 1, 1024, 1, {"resources:VGPU": "2"}),
    ("m1.small", 1, 1024, 1, {}),
]
IMAGE = "hpc-serving"
NETWORK = "hpc-cloud-net"
SUBNET = "hpc-cloud-subnet"
CIDR = "10.77.0.0/24"
GATEWAY = "10.77.0.1"
POOL = {"start": "10.77.0.10", "end": "10.77.0.250"}
SECURITY_GROUP = "hpc-serving"
SERVING_PORT = 8080
QUOTAS = {"instances": 10, "cores": 20, "ram": 51200}

OS_DIR = sys.argv[1]


def log(message):
    print("[seed] " + message, flush=True)


def read_secret(path):
    with open(os.path.join(OS_DIR, path)) as source:
        return source.read().strip()


def write_private(name, text):
    path = os.path.join(OS_DIR, name)
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def admin_session():
    auth = v3.Password(
        auth_url=AUTH_URL, username="admin", password=read_secret("secrets/admin.secret"),
        project_name="admin", user_domain_name="Default", project_domain_name="Default",
    )
    return ks_session.Session(auth=auth)


class Api:
    """JSON calls to one service through the catalog (Keystone itself by URL)."""

    def __init__(self, session, service_type=None, microversion=None):
        self.session = session
        self.service_type = service_type
        self.headers = {}
        if microversion:
            self.headers["OpenStack-API-Version"] = "compute " + microversion

    def call(self, method, path, body=None, **kwargs):
        if self.service_type is None:
            url, extra = AUTH_URL + path, {}
        else:
            url = path
            extra = {"endpoint_filter": {"service_type": self.service_type,
                                         "interface": "public", "region_name": REGION}}
        response = self.session.request(url, method, json=body, headers=dict(self.headers),
                                        **extra, **kwargs)
        return response.json() if response.content else None

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body):
        return self.call("POST", path, body)

    def put(self, path, body=None):
        return self.call("PUT", path, body)

    def patch(self, path, body):
        return self.call("PATCH", path, body)


def find_one(items, what):
    if len(items) > 1:
        raise SystemExit("more than one %s: %s" % (what, [i.get("id") for i in items]))
    return items[0] if items else None


# ---- Keystone ----------------------------------------------------------------------------------

def ensure_project(keystone, name, description):
    found = find_one(keystone.get("/projects?domain_id=default&name=" + name)["projects"], name)
    if found:
        return found["id"]
    log("project " + name)
    return keystone.post("/projects", {"project": {
        "name": name, "domain_id": "default", "description": description}})["project"]["id"]


def ensure_user(keystone, name, password, project_id):
    found = find_one(keystone.get("/users?domain_id=default&name=" + name)["users"], name)
    if found:
        # Changing a password revokes the user's tokens (to the second): only when needed.
        if not password_works(name, password):
            log("user %s: password reset" % name)
            keystone.patch("/users/" + found["id"], {"user": {"password": password}})
            time.sleep(1)
        return found["id"]
    log("user " + name)
    return keystone.post("/users", {"user": {
        "name": name, "domain_id": "default", "password": password,
        "default_project_id": project_id}})["user"]["id"]


def password_works(name, password):
    auth = v3.Password(auth_url=AUTH_URL, username=name, password=password,
                       user_domain_name="Default")
    try:
        ks_session.Session(auth=auth).get_token()
        return True
    except ks_exceptions.Unauthorized:
        return False


def role_id(keystone, name):
    return find_one(keystone.get("/roles?name=" + name)["roles"], "role " + name)["id"]


def ensure_role(keystone, name):
    found = find_one(keystone.get("/roles?name=" + name)["roles"], "role " + name)
    if found:
        return found["id"]
    log("role " + name)
    return keystone.post("/roles", {"role": {"name": name}})["role"]["id"]


def ensure_catalog(keystone):
    for service_type, name, url, _ in SERVICES:
        service = find_one(keystone.get("/services?type=" + service_type)["services"], service_type)
        if not service:
            log("service " + name)
            service = keystone.post("/services", {"service": {"type": service_type, "name": name}})["service"]
        endpoints = keystone.get("/endpoints?service_id=" + service["id"])["endpoints"]
        for interface in ("public", "internal", "admin"):
            endpoint = find_one([e for e in endpoints if e["interface"] == interface],
                                name + " " + interface)
            if not endpoint:
                keystone.post("/endpoints", {"endpoint": {
                    "service_id": service["id"], "interface": interface, "url": url,
                    "region_id": REGION}})
            elif endpoint["url"] != url:
                keystone.patch("/endpoints/" + endpoint["id"], {"endpoint": {"url": url}})


def seed_keystone(session):
    keystone = Api(session)
    ensure_catalog(keystone)
    admin_role = role_id(keystone, "admin")
    member_role = role_id(keystone, "member")
    # Nova passes its own token as X-Service-Token when it calls Neutron for a user, and the
    # services accept it only with this role (service_token_roles_required).
    service_role = ensure_role(keystone, "service")
    service_project = ensure_project(keystone, "service", "OpenStack service users")
    for _, _, _, user in SERVICES:
        user_id = ensure_user(keystone, user, read_secret("secrets/%s.secret" % user), service_project)
        for role in (admin_role, service_role):
            keystone.put("/projects/%s/users/%s/roles/%s" % (service_project, user_id, role))
    demo_project = ensure_project(keystone, PROJECT, "HPC Bridge demo: cloud GPU endpoints")
    bridge_id = ensure_user(keystone, BRIDGE_USER, read_secret("bridge.password"), demo_project)
    keystone.put("/projects/%s/users/%s/roles/%s" % (demo_project, bridge_id, member_role))
    return demo_project, bridge_id


def ensure_application_credential(bridge_id):
    auth = v3.Password(
        auth_url=AUTH_URL, username=BRIDGE_USER, password=read_secret("bridge.password"),
        project_name=PROJECT, user_domain_name="Default", project_domain_name="Default",
    )
    keystone = Api(ks_session.Session(auth=auth))
    base = "/users/%s/application_credentials" % bridge_id
    try:
        current = read_secret("appcred.id")
        read_secret("appcred.secret")
        keystone.get(base + "/" + current)
        return
    except (OSError, ks_exceptions.NotFound):
        pass
    for credential in keystone.get(base + "?name=" + APPCRED_NAME)["application_credentials"]:
        keystone.call("DELETE", base + "/" + credential["id"])
    created = keystone.post(base, {"application_credential": {
        "name": APPCRED_NAME,
        "description": "The HPC Bridge's credential for the demo cloud (stack/openstack/seed.py)",
    }})["application_credential"]
    write_private("appcred.secret", created["secret"] + "\n")
    write_private("appcred.id", created["id"] + "\n")
    log("application credential %s for %s" % (created["id"], BRIDGE_USER))


# ---- Nova, Glance, Neutron -------------------------------------------------------------------

def seed_flavors(nova):
    existing = {f["name"]: f for f in nova.get("/flavors/detail?is_public=None")["flavors"]}
    for name, vcpus, ram, disk, specs in FLAVORS:
        flavor = existing.get(name)
        if not flavor:
            log("flavor " + name)
            flavor = nova.post("/flavors", {"flavor": {
                "name": name, "id": name, "vcpus": vcpus, "ram": ram, "disk": disk}})["flavor"]
        if specs and flavor.get("extra_specs") != specs:
            nova.post("/flavors/%s/os-extra_specs" % flavor["id"], {"extra_specs": specs})


def seed_image(glance):
    images = glance.get("/v2/images?name=" + IMAGE)["images"]
    image = next((i for i in images if i["status"] == "active"), None)
    for stale in (i for i in images if i is not image):
        glance.call("DELETE", "/v2/images/" + stale["id"])
    if image:
        return
    log("image " + IMAGE)
    image = glance.post("/v2/images", {
        "name": IMAGE, "disk_format": "raw", "container_format": "bare",
        "visibility": "public",
        "hpcb_description": "Placeholder disk: the stack's fake hypervisor boots nothing from it;"
                            " it runs the server's user-data in a network namespace instead.",
    })
    glance.session.request(
        "/v2/images/%s/file" % image["id"], "PUT", data=b"\0" * 65536,
        headers={"Content-Type": "application/octet-stream"},
        endpoint_filter={"service_type": "image", "interface": "public", "region_name": REGION},
    )


def seed_network(neutron, project_id):
    networks = neutron.get("/v2.0/networks?name=" + NETWORK)["networks"]
    network = find_one(networks, NETWORK)
    if not network:
        log("network " + NETWORK)
        network = neutron.post("/v2.0/networks", {"network": {
            "name": NETWORK, "project_id": project_id, "shared": False,
            "provider:network_type": "flat", "provider:physical_network": "physnet1"}})["network"]
    if not neutron.get("/v2.0/subnets?network_id=" + network["id"])["subnets"]:
        neutron.post("/v2.0/subnets", {"subnet": {
            "name": SUBNET, "network_id": network["id"], "project_id": project_id,
            "ip_version": 4, "cidr": CIDR, "gateway_ip": GATEWAY, "enable_dhcp": False,
            "allocation_pools": [POOL]}})
    groups = neutron.get("/v2.0/security-groups?name=%s&project_id=%s" % (SECURITY_GROUP, project_id))
    group = find_one(groups["security_groups"], SECURITY_GROUP)
    if not group:
        log("security group " + SECURITY_GROUP)
        group = neutron.post("/v2.0/security-groups", {"security_group": {
            "name": SECURITY_GROUP, "project_id": project_id,
            "description": "Model servers: TCP %d in" % SERVING_PORT}})["security_group"]
    if not any(r["direction"] == "ingress" and r["protocol"] == "tcp"
               and r["port_range_min"] == SERVING_PORT for r in group["security_group_rules"]):
        neutron.post("/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4",
            "protocol": "tcp", "port_range_min": SERVING_PORT, "port_range_max": SERVING_PORT,
            "remote_ip_prefix": "0.0.0.0/0"}})


def with_retries(what, action, attempts=30):
    """Services that just answered their version document may not serve yet (authtoken)."""
    for attempt in range(attempts):
        try:
            return action()
        except (ks_exceptions.ServiceUnavailable, ks_exceptions.ConnectFailure,
                ks_exceptions.BadGateway, ks_exceptions.EndpointNotFound):
            if attempt == attempts - 1:
                raise
            time.sleep(1)
    raise AssertionError(what)


def main():
    session = admin_session()
    project_id, bridge_id = seed_keystone(session)
    ensure_application_credential(bridge_id)
    write_private("admin.json", json.dumps({
        "authUrl": AUTH_URL, "username": "admin", "password": read_secret("secrets/admin.secret"),
        "projectName": "admin", "userDomainName": "Default", "projectDomainName": "Default",
    }, indent=2) + "\n")

    session = admin_session()  # a fresh token, with the catalog just written
    nova = Api(session, "compute", microversion="2.61")
    with_retries("flavors", lambda: seed_flavors(nova))
    nova.put("/os-quota-sets/" + project_id, {"quota_set": QUOTAS})
    with_retries("image", lambda: seed_image(Api(session, "image")))
    with_retries("network", lambda: seed_network(Api(session, "network"), project_id))

    with open(os.path.join(OS_DIR, "cloud.json"), "w") as out:
        json.dump({
            "authUrl": AUTH_URL, "region": REGION, "project": PROJECT, "projectId": project_id,
            "user": BRIDGE_USER, "image": IMAGE, "network": NETWORK, "securityGroup": SECURITY_GROUP,
            "flavors": {name: specs for name, _, _, _, specs in FLAVORS},
            "appCredentialIdFile": os.path.join(OS_DIR, "appcred.id"),
            "appCredentialSecretFile": os.path.join(OS_DIR, "appcred.secret"),
            "passwordFile": os.path.join(OS_DIR, "bridge.password"),
        }, out, indent=2)
        out.write("\n")
    log("done")


if __name__ == "__main__":
    main()
