"""A second red team's probe of the credential scrubber: 106 planted secrets in shapes the first
benchmarks did not hold, and 54 look-alikes that must come out unchanged.

Written apart from bench/secret_recall.py and bench/secret_unseen.py (by a reviewer asked for
realistic shapes from GitHub's bash: CI and cloud tools, server configuration files, code a script
writes, package managers' auth, URL query keys, vendors' headers), with a fixed seed; every secret is
made up. A planted snippet is missed when one of its secrets, or a 10-character piece of one found
nowhere else in the input, survives; a look-alike is changed when the output differs at all; a second
scrub must change nothing. It prints the counts, then each missed family and each changed look-alike.

Usage: python bench/secret_redteam.py
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bashcoder.trainer.collect.secrets import scrub  # noqa: E402

R = random.Random(424242)
ALNUM = string.ascii_letters + string.digits
UPNUM = string.ascii_uppercase + string.digits
LOWNUM = string.ascii_lowercase + string.digits
HEXS = "0123456789abcdef"
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    while True:
        s = "".join(R.choice(alphabet) for _ in range(n))
        ok = all(
            any(c in cls for c in s)
            for cls in (string.digits, string.ascii_lowercase, string.ascii_uppercase)
            if any(c in cls for c in alphabet)
        )
        if n < 6 or ok:
            return s


def rhex(n: int) -> str:
    return rnd(n, HEXS)


def rUP(n: int) -> str:
    return rnd(n, string.ascii_uppercase)


def ruuid() -> str:
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def rb64(nbytes: int) -> str:
    return base64.b64encode(bytes(R.getrandbits(8) for _ in range(nbytes))).decode()


def pw(n: int = 14) -> str:
    """A generated password with one safe symbol inside (single-quote safe)."""
    body = rnd(n - 1)
    i = R.randrange(2, len(body) - 2)
    return body[:i] + R.choice("!#%+.") + body[i:]


def plain(n: int = 14) -> str:
    return rnd(n)


def T(_tpl: str, **kw: str) -> str:
    """Fill @@NAME@@ markers (no f-strings: the snippets hold braces, %s and heredocs)."""
    for k, v in kw.items():
        _tpl = _tpl.replace("@@" + k + "@@", v)
    assert "@@" not in _tpl, _tpl
    return _tpl


PLANTED: list[tuple[str, str, str, list[str]]] = []  # (family, name, snippet, secrets)
BENIGN: list[tuple[str, str, str]] = []  # (family, name, snippet)


def plant(family: str, name: str, snippet: str, *secrets: str) -> None:
    for s in secrets:
        assert s in snippet, (name, s)
    PLANTED.append((family, name, snippet, list(secrets)))


def benign(family: str, name: str, snippet: str) -> None:
    BENIGN.append((family, name, snippet))


# =====================================================================================
# A. A literal piped / here-strung into a command that reads a secret on stdin
# =====================================================================================
F = "stdin-to-secret-consumer"
p = pw()
plant(F, "kinit-echo", T("echo '@@p@@' | kinit svc_backup@CORP.ACME.IO\nklist", p=p), p)
p = pw()
plant(F, "kinit-herestring", T("kinit admin/admin@CORP.ACME.IO <<< '@@p@@'", p=p), p)
p = pw()
plant(F, "realm-join-echo", T("echo '@@p@@' | sudo realm join --user=Administrator corp.acme.io", p=p), p)
p = plain(10)
plant(
    F,
    "tigervncpasswd-f",
    T("mkdir -p ~/.vnc\necho @@p@@ | tigervncpasswd -f > ~/.vnc/passwd\nchmod 600 ~/.vnc/passwd", p=p),
    p,
)
t = rnd(40)
plant(
    F,
    "wrangler-secret-put",
    T('echo "@@t@@" | npx wrangler secret put UPSTREAM_API_KEY --env production', t=t),
    t,
)
t = rnd(32)
plant(
    F,
    "vercel-env-add",
    T("echo -n '@@t@@' | vercel env add API_TOKEN production --token \"$VERCEL_TOKEN\"", t=t),
    t,
)
t = rnd(48)
plant(
    F,
    "kubectl-from-file-dev-stdin",
    T(
        "echo -n '@@t@@' | kubectl create secret generic upstream-api --from-file=token=/dev/stdin -n prod",
        t=t,
    ),
    t,
)
p = pw(18)
plant(F, "pass-insert", T("echo '@@p@@' | pass insert --echo infra/db/root", p=p), p)
p = pw()
plant(
    F,
    "secret-tool-store",
    T("echo -n '@@p@@' | secret-tool store --label='Deploy DB' service deploy-db user app", p=p),
    p,
)
p = pw(20)
plant(
    F,
    "cryptsetup-luksFormat-dash",
    T("echo -n '@@p@@' | sudo cryptsetup luksFormat --batch-mode /dev/sdb1 -", p=p),
    p,
)
p = pw(20)
plant(
    F,
    "cryptsetup-open-d-dash",
    T("printf '%s' '@@p@@' | cryptsetup open --type luks2 /dev/nvme1n1p1 data -d -", p=p),
    p,
)
p = pw()
plant(
    F,
    "openconnect-passwd-on-stdin",
    T("echo '@@p@@' | sudo openconnect --user=jdoe --passwd-on-stdin vpn.acme.io &", p=p),
    p,
)
p = pw(16)
plant(
    F,
    "zfs-keyformat-passphrase",
    T("echo '@@p@@' | zfs create -o encryption=aes-256-gcm -o keyformat=passphrase tank/secure", p=p),
    p,
)
t = rhex(40)
plant(
    F,
    "gh-auth-with-token-echo-ghe",
    T('echo "@@t@@" | gh auth login --hostname ghe.acme.io --with-token', t=t),
    t,
)
t = rnd(64)
plant(F, "hcloud-context-create", T('echo "@@t@@" | hcloud context create production', t=t), t)
p = pw()
plant(
    F,
    "openssl-enc-pass-stdin",
    T("echo '@@p@@' | openssl enc -aes-256-cbc -pbkdf2 -pass stdin -in backup.tar -out backup.tar.enc", p=p),
    p,
)
t = "r8_" + rnd(37)
plant(
    F, "cog-login-token-stdin", T("echo @@t@@ | cog login --token-stdin\ncog push r8.im/acme/model", t=t), t
)

# =====================================================================================
# B. Passwords given to tools on the command line that the tool table does not know
# =====================================================================================
F = "macos-keychain-cli"
p = pw()
plant(F, "security-unlock-keychain-p", T("security unlock-keychain -p '@@p@@' build.keychain", p=p), p)
p = plain(16)
plant(
    F,
    "security-create-keychain-p",
    T("security create-keychain -p @@p@@ build.keychain\nsecurity default-keychain -s build.keychain", p=p),
    p,
)
p = pw()
plant(
    F,
    "security-import-P",
    T("security import dist.p12 -k ~/Library/Keychains/build.keychain -P '@@p@@' -T /usr/bin/codesign", p=p),
    p,
)
p = pw()
plant(
    F,
    "security-add-generic-password-w",
    T("security add-generic-password -a ci -s notary -w '@@p@@' -U", p=p),
    p,
)
app = "-".join(rnd(4, string.ascii_lowercase) for _ in range(4))
plant(
    F,
    "xcrun-altool-app-specific-password",
    T("xcrun altool --upload-app -f build/App.ipa -t ios -u ios-dev@acme.io -p @@a@@", a=app),
    app,
)

F = "android-signing-cli"
p, p2 = pw(), pw()
plant(
    F,
    "apksigner-ks-pass-pass-prefix",
    T(
        "apksigner sign --ks release.jks --ks-pass pass:@@p@@ --key-pass pass:@@q@@ app-release.apk",
        p=p,
        q=p2,
    ),
    p,
    p2,
)
ks = "MIIK" + rb64(300)
plant(
    F,
    "keystore-base64-literal-decoded",
    T('echo "@@k@@" | base64 -d > app/release.jks', k=ks),
    ks,
)

F = "infra-admin-cli"
p = plain(12)
plant(F, "racadm-p", T("racadm -r 10.0.5.21 -u root -p @@p@@ serveraction powercycle", p=p), p)
p = plain(14)
plant(F, "mosquitto_passwd-b", T("mosquitto_passwd -b /etc/mosquitto/passwd sensor01 @@p@@", p=p), p)
p = pw()
plant(
    F,
    "mosquitto_pub-P",
    T("mosquitto_pub -h mqtt.acme.io -u sensor01 -P '@@p@@' -t home/temp -m 21.5", p=p),
    p,
)
p, p2 = pw(), pw()
plant(
    F,
    "snmpwalk-v3-A-X",
    T("snmpwalk -v3 -l authPriv -u monitor -a SHA -A '@@p@@' -x AES -X '@@q@@' 10.0.0.1 system", p=p, q=p2),
    p,
    p2,
)
c = plain(15)
plant(F, "snmpget-v2c-community", T("snmpget -v2c -c @@c@@ 192.168.1.1 sysUpTime.0", c=c), c)
p = pw()
plant(F, "pihole-a-p", T("pihole -a -p '@@p@@'", p=p), p)
p = pw()
plant(
    F,
    "raspi-config-wifi-passphrase",
    T("sudo raspi-config nonint do_wifi_ssid_passphrase HomeNet '@@p@@'", p=p),
    p,
)
p = plain(16)
plant(
    F,
    "wpa_cli-set_network-psk",
    T("wpa_cli -i wlan0 set_network 0 psk '\"@@p@@\"'\nwpa_cli -i wlan0 enable_network 0", p=p),
    p,
)
p = pw()
plant(F, "caddy-hash-password-plaintext", T("HASH=$(caddy hash-password --plaintext '@@p@@')", p=p), p)
p = plain(16)
plant(
    F,
    "ss-server-k",
    T("ss-server -s 0.0.0.0 -p 8388 -k @@p@@ -m chacha20-ietf-poly1305 -d start", p=p),
    p,
)
p = pw()
plant(F, "wazuh-passwords-tool-p", T("bash wazuh-passwords-tool.sh -u admin -p '@@p@@'", p=p), p)
p = pw()
plant(F, "knife-bootstrap-P", T("knife bootstrap 10.0.0.9 -U ubuntu -P '@@p@@' --sudo -N web01", p=p), p)
p = plain(12)
plant(F, "ncftpput-p", T("ncftpput -u ftpuser -p @@p@@ ftp.acme.io /incoming build.tgz", p=p), p)
p = pw()
plant(F, "pdftk-user_pw", T("pdftk report.pdf output report-locked.pdf user_pw @@p@@ allow printing", p=p), p)

F = "pentest-cli-creds"
p = pw()
plant(F, "evil-winrm-p", T("evil-winrm -i 10.10.10.5 -u Administrator -p '@@p@@'", p=p), p)
p = pw()
plant(F, "netexec-smb-p", T("nxc smb 10.10.10.0/24 -u svc_sql -p '@@p@@' --shares", p=p), p)
p = plain(14)
plant(
    F, "impacket-user-colon-pass-at-host", T("impacket-secretsdump 'CORP/svc_sql:@@p@@@10.10.10.5'", p=p), p
)

F = "database-cli"
p = pw()
plant(F, "cypher-shell-p", T("cypher-shell -u neo4j -p '@@p@@' \"MATCH (n) RETURN count(n)\"", p=p), p)
p = plain(14)
plant(
    F,
    "couchbase-cli-p",
    T(
        "couchbase-cli bucket-create -c localhost:8091 -u Administrator -p @@p@@ --bucket app --bucket-type couchbase",
        p=p,
    ),
    p,
)
p = plain(12)
plant(F, "nodetool-pw", T("nodetool -u cassandra -pw @@p@@ status", p=p), p)
p = plain(12)
plant(
    F, "db2-connect-using", T("db2 connect to SAMPLE user db2inst1 using @@p@@\ndb2 -tvf schema.sql", p=p), p
)
p = plain(12)
plant(F, "sybase-isql-P-attached", T("isql -Usa -P@@p@@ -SSYBASE01 -i init.sql", p=p), p)
p = plain(12)
plant(F, "vsql-w", T('vsql -h vertica01 -U dbadmin -w @@p@@ -c "select version()"', p=p), p)
p = plain(14)
plant(
    F,
    "arangosh-server-password",
    T("arangosh --server.endpoint tcp://127.0.0.1:8529 --server.username root --server.password @@p@@", p=p),
    p,
)
p = pw()
plant(F, "pg_md5-positional", T("pg_md5 --md5auth --username=app '@@p@@'", p=p), p)
p = pw()
plant(
    F,
    "redis-acl-setuser-gt",
    T("redis-cli -h cache01 ACL SETUSER app on '>@@p@@' '~app:*' '+@all'", p=p),
    p,
)
p = plain(16)
plant(
    F, "redis-users-acl-file", T('echo "user worker on >@@p@@ ~jobs:* +@all" >> /etc/redis/users.acl', p=p), p
)
p = plain(16)
plant(
    F,
    "redis-sentinel-auth-pass",
    T('echo "sentinel auth-pass mymaster @@p@@" >> /etc/redis/sentinel.conf', p=p),
    p,
)
p = plain(16)
plant(F, "redis-AUTH-over-nc", T("printf 'AUTH %s\\r\\nPING\\r\\n' '@@p@@' | nc -q1 redis01 6379", p=p), p)
p = plain(14)
plant(F, "zkCli-addauth-digest", T("zkCli.sh -server zk1:2181 addauth digest admin:@@p@@", p=p), p)
p = pw()
plant(
    F,
    "mongo-heredoc-db-auth",
    T(
        'mongosh admin <<EOF\ndb.auth("root", "@@p@@")\ndb.getSiblingDB("app").createCollection("jobs")\nEOF',
        p=p,
    ),
    p,
)
p = plain(14)
plant(
    F,
    "sqlplus-heredoc-CONNECT",
    T("sqlplus -s /nolog <<EOF\nCONNECT sys/@@p@@@ORCLPDB1 AS SYSDBA\n@/opt/app/schema.sql\nEXIT\nEOF", p=p),
    p,
)
p = pw()
plant(
    F,
    "postgres-fdw-user-mapping",
    T(
        "psql -c \"CREATE USER MAPPING FOR app SERVER legacy OPTIONS (user 'legacy_ro', password '@@p@@');\"",
        p=p,
    ),
    p,
)

F = "identity-admin-cli"
p = pw()
plant(
    F, "kadmin-w", T("kadmin -p admin/admin -w '@@p@@' -q \"addprinc -randkey host/web01.acme.io\"", p=p), p
)
p = plain(14)
plant(F, "kadmin-local-addprinc-pw", T('kadmin.local -q "addprinc -pw @@p@@ alice"', p=p), p)
p = plain(14)
plant(F, "samba-tool-user-create", T("samba-tool user create alice @@p@@ --given-name=Alice", p=p), p)
p = plain(14)
plant(
    F,
    "samba-tool-provision-adminpass",
    T(
        "samba-tool domain provision --realm=CORP.ACME.IO --domain=CORP --adminpass=@@p@@ --server-role=dc",
        p=p,
    ),
    p,
)
p, p2 = plain(14), plain(14)
plant(
    F,
    "moodle-install-dbpass-adminpass",
    T(
        "php admin/cli/install.php --dbtype=pgsql --dbhost=db --dbname=moodle --dbuser=moodle "
        "--dbpass=@@p@@ --adminpass=@@q@@ --agree-license --non-interactive",
        p=p,
        q=p2,
    ),
    p,
    p2,
)

F = "ci-cloud-cli-tokens"
gr = "GR1348941" + rnd(20, URLSAFE)
plant(
    F,
    "gitlab-runner-register-r",
    T(
        "gitlab-runner register -n -u https://gitlab.acme.io/ -r @@g@@ --executor docker --docker-image alpine:3.19",
        g=gr,
    ),
    gr,
)
t = "pnu_" + rnd(36)
plant(F, "prefect-cloud-login-k", T("prefect cloud login -k @@t@@ --workspace acme/prod", t=t), t)
lid, lsec = "LTAI5t" + rnd(18), rnd(30)
plant(
    F,
    "ossutil-config-i-k",
    T("ossutil config -e oss-cn-hangzhou.aliyuncs.com -i @@i@@ -k @@k@@", i=lid, k=lsec),
    lid,
    lsec,
)
t = "cio" + rnd(32)
plant(F, "cargo-login-positional", T("cargo login @@t@@\ncargo publish --allow-dirty", t=t), t)
t = rnd(40)
plant(
    F,
    "nuget-setapikey-positional",
    T("nuget setapikey @@t@@ -Source https://nuget.acme.io/v3/index.json", t=t),
    t,
)
k = rb64(32)
plant(F, "vault-operator-unseal", T("vault operator unseal @@k@@", k=k), k)
sid = ruuid()
plant(
    F,
    "vault-approle-secret_id",
    T("vault write auth/approle/login role_id=" + ruuid() + " secret_id=@@s@@", s=sid),
    sid,
)
t = "ac-" + rnd(30, LOWNUM)
plant(F, "anaconda-upload-t", T("anaconda -t @@t@@ upload --user acme dist/*.tar.bz2", t=t), t)
g = rb64(32)
plant(
    F,
    "consul-agent-encrypt",
    T("consul agent -server -bootstrap-expect=3 -encrypt=@@g@@ -data-dir=/opt/consul", g=g),
    g,
)
p = pw()
plant(
    F,
    "filebeat-E-cloud.auth",
    T("filebeat setup -e -E cloud.id=prod:ZXUtd2VzdC0x -E cloud.auth=elastic:@@p@@", p=p),
    p,
)
ck = rhex(64)
plant(
    F,
    "kubeadm-certificate-key",
    T(
        'kubeadm join 10.0.0.10:6443 --token "$KUBEADM_TOKEN" --discovery-token-ca-cert-hash sha256:'
        + rhex(64)
        + " --control-plane --certificate-key @@c@@",
        c=ck,
    ),
    ck,
)
t = rhex(48)
plant(
    F,
    "jupyter-NotebookApp.token-flag",
    T("jupyter notebook --ip=0.0.0.0 --no-browser --NotebookApp.token='@@t@@'", t=t),
    t,
)
p = pw()
plant(F, "solr-auth-credentials", T("bin/solr auth enable -type basicAuth -credentials solr:@@p@@", p=p), p)
p = pw()
plant(
    F,
    "lftp-e-open-u",
    T('lftp -e "open -u deploy,@@p@@ sftp://files.acme.io; mirror -R dist /www; bye"', p=p),
    p,
)
t = "squ_" + rhex(40)
plant(
    F,
    "curl-u-token-empty-password",
    T("curl -s -u @@t@@: https://sonar.acme.io/api/qualitygates/project_status?projectKey=app", t=t),
    t,
)
p, p2 = pw(), pw()
plant(
    F,
    "skopeo-src-dest-creds",
    T(
        "skopeo copy --src-creds ci:@@p@@ --dest-creds robot_push:@@q@@ docker://ghcr.io/acme/app:1.2 docker://harbor.acme.io/app/app:1.2",
        p=p,
        q=p2,
    ),
    p,
    p2,
)
t = rnd(36)
plant(F, "crane-auth-login-p", T("crane auth login harbor.acme.io -u ci-bot -p @@t@@", t=t), t)
cf = base64.b64encode(
    json.dumps({"a": rhex(32), "t": ruuid(), "s": rb64(32)}, separators=(",", ":")).encode()
).decode()
plant(F, "cloudflared-service-install", T("sudo cloudflared service install @@c@@", c=cf), cf)
sk = ruuid()
plant(F, "netbird-setup-key", T("netbird up --setup-key @@k@@ --management-url https://nb.acme.io", k=sk), sk)
t = rnd(32)
plant(F, "poetry-config-pypi-token-private", T("poetry config pypi-token.internal @@t@@", t=t), t)
t = "xapp-1-A0" + rnd(9, UPNUM) + "-" + "".join(R.choice(string.digits) for _ in range(13)) + "-" + rhex(64)
plant(F, "slack-xapp-positional", T('./bin/run-bot.sh "$SLACK_BOT_TOKEN" @@t@@', t=t), t)
t = "dapi" + rhex(32)
plant(
    F,
    "databricks-configure-heredoc",
    T(
        "databricks configure --token <<EOF\nhttps://adb-1234567890123456.7.azuredatabricks.net\n@@t@@\nEOF",
        t=t,
    ),
    t,
)
s40 = rnd(40, B64)
plant(
    F,
    "aws-configure-heredoc-answers",
    T("aws configure <<EOF\n@@i@@\n@@s@@\nus-east-1\njson\nEOF", i="AKIA" + rnd(16, UPNUM), s=s40),
    s40,
)
s40 = rnd(40, B64)
plant(
    F,
    "aws-configure-printf-answers",
    T("printf '%s\\n%s\\nus-east-1\\njson\\n' @@i@@ @@s@@ | aws configure", i="AKIA" + rnd(16, UPNUM), s=s40),
    s40,
)
gid = "GOOG1E" + rnd(55, UPNUM)
plant(F, "gcs-hmac-access-id", T("aws configure set aws_access_key_id @@g@@ --profile gcs", g=gid), gid)
ak, sk2 = "AKID" + rnd(32), rnd(32)
plant(
    F,
    "tccli-configure-set",
    T("tccli configure set secretId @@a@@ secretKey @@s@@ region ap-guangzhou", a=ak, s=sk2),
    ak,
    sk2,
)
sid2 = ruuid()
plant(
    F,
    "scw-init-secret-key-eq",
    T(
        "scw init access-key=SCW"
        + rnd(17, UPNUM)
        + " secret-key=@@s@@ organization-id="
        + ruuid()
        + " send-telemetry=false",
        s=sid2,
    ),
    sid2,
)
t = rnd(40)
plant(
    F,
    "kubectl-from-literal-hyphen-name",
    T("kubectl create secret generic openai --from-literal=api-key=@@t@@ -n ml", t=t),
    t,
)
p = pw()
plant(F, "pulumi-config-set-secret", T("pulumi config set --secret dbPassword '@@p@@'", p=p), p)

# =====================================================================================
# C. Config files written by the script (heredoc / echo / tee) in shapes the rules miss
# =====================================================================================
F = "server-config-files"
p, p2 = plain(14), plain(14)
plant(
    F,
    "haproxy-stats-auth-and-userlist",
    T(
        "cat > /etc/haproxy/haproxy.cfg <<EOF\nlisten stats\n    bind :8404\n    stats enable\n    stats uri /\n"
        "    stats auth admin:@@p@@\nuserlist ops\n    user admin insecure-password @@q@@\nEOF",
        p=p,
        q=p2,
    ),
    p,
    p2,
)
p = plain(14)
plant(
    F,
    "squid-cache_peer-login",
    T(
        'echo "cache_peer parent.acme.io parent 3128 0 no-query default login=proxyuser:@@p@@" >> /etc/squid/squid.conf',
        p=p,
    ),
    p,
)
p = plain(14)
plant(
    F,
    "freeradius-Cleartext-Password",
    T("echo 'alice Cleartext-Password := \"@@p@@\"' >> /etc/freeradius/3.0/mods-config/files/authorize", p=p),
    p,
)
p = plain(14)
plant(
    F,
    "slapd.conf-rootpw",
    T(
        'cat >> /etc/openldap/slapd.conf <<EOF\nsuffix  "dc=acme,dc=io"\nrootdn  "cn=Manager,dc=acme,dc=io"\nrootpw  @@p@@\nEOF',
        p=p,
    ),
    p,
)
p = plain(14)
plant(
    F,
    "dovecot-users-PLAIN",
    T('echo "mailer:{PLAIN}@@p@@::::::" >> /etc/dovecot/users', p=p),
    p,
)
p = plain(16)
plant(
    F,
    "fetchmailrc-password-quoted",
    T(
        'cat > ~/.fetchmailrc <<EOF\npoll imap.acme.io protocol IMAP user "ops" password "@@p@@" ssl\nEOF\nchmod 600 ~/.fetchmailrc',
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "offlineimaprc-remotepass",
    T(
        "cat > ~/.offlineimaprc <<EOF\n[Repository Remote]\ntype = IMAP\nremotehost = imap.acme.io\nremoteuser = ops\nremotepass = @@p@@\nEOF",
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "mbsyncrc-Pass",
    T(
        "cat > ~/.mbsyncrc <<EOF\nIMAPAccount acme\nHost imap.acme.io\nUser ops\nPass @@p@@\nSSLType IMAPS\nEOF",
        p=p,
    ),
    p,
)
p = plain(14)
plant(
    F,
    "vsftpd-virtual-users",
    T(
        "printf 'ftpuser1\\n@@p@@\\n' > /etc/vsftpd/virtual_users.txt\ndb_load -T -t hash -f /etc/vsftpd/virtual_users.txt /etc/vsftpd/virtual_users.db",
        p=p,
    ),
    p,
)
k = "AQ" + rb64(38)[2:]
plant(
    F,
    "ceph-keyring-key",
    T(
        'cat > /etc/ceph/ceph.client.admin.keyring <<EOF\n[client.admin]\n\tkey = @@k@@\n\tcaps mon = "allow *"\nEOF',
        k=k,
    ),
    k,
)
p = plain(20)
plant(
    F,
    "drbd-shared-secret",
    T(
        'cat > /etc/drbd.d/r0.res <<EOF\nresource r0 {\n  net {\n    cram-hmac-alg sha1;\n    shared-secret "@@p@@";\n  }\n}\nEOF',
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "couchdb-local.ini-admins",
    T("cat > /opt/couchdb/etc/local.d/admins.ini <<EOF\n[admins]\nadmin = @@p@@\nEOF", p=p),
    p,
)
p = plain(16)
plant(
    F,
    "snmpd.conf-rocommunity",
    T('echo "rocommunity @@p@@ 10.0.0.0/8" >> /etc/snmp/snmpd.conf', p=p),
    p,
)
p, p2 = plain(14), plain(14)
plant(
    F,
    "snmpd-createUser",
    T('cat >> /var/lib/snmp/snmpd.conf <<EOF\ncreateUser monitor SHA "@@p@@" AES "@@q@@"\nEOF', p=p, q=p2),
    p,
    p2,
)
p = plain(16)
plant(
    F,
    "strongswan-eap-secret",
    T("echo 'alice : EAP \"@@p@@\"' >> /etc/ipsec.secrets", p=p),
    p,
)
hexlines = [rhex(32) for _ in range(4)]
plant(
    F,
    "openvpn-inline-static-key",
    "cat >> client.ovpn <<EOF\n<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n"
    + "\n".join(hexlines)
    + "\n-----END OpenVPN Static key V1-----\n</tls-auth>\nkey-direction 1\nEOF",
    *hexlines,
)
g = rb64(32)
plant(
    F,
    "consul-json-encrypt",
    T(
        'cat > /etc/consul.d/consul.json <<EOF\n{\n  "datacenter": "dc1",\n  "encrypt": "@@g@@",\n  "server": true\n}\nEOF',
        g=g,
    ),
    g,
)
k = rhex(64)
plant(F, "zabbix-psk-file", T('echo "@@k@@" > /etc/zabbix/zabbix_agentd.psk', k=k), k)
c = rUP(20)
plant(
    F,
    "erlang-cookie-file",
    T('echo -n "@@c@@" > /var/lib/rabbitmq/.erlang.cookie\nchmod 400 /var/lib/rabbitmq/.erlang.cookie', c=c),
    c,
)
c = rUP(20)
plant(
    F,
    "erlang-cookie-env",
    T("docker run -d --hostname rmq1 -e RABBITMQ_ERLANG_COOKIE=@@c@@ rabbitmq:3-management", c=c),
    c,
)
p = plain(16)
plant(
    F, "openwrt-uci-wifi-key", T("uci set wireless.@wifi-iface[0].key='@@p@@'\nuci commit wireless", p=p), p
)
tok = "K10" + rhex(64) + "::server:" + rhex(32)
plant(
    F,
    "rke2-config-yaml-token",
    T(
        "mkdir -p /etc/rancher/rke2\ncat > /etc/rancher/rke2/config.yaml <<EOF\nserver: https://10.0.0.10:9345\ntoken: @@t@@\nEOF",
        t=tok,
    ),
    tok,
)
p = pw()
plant(
    F,
    "metricbeat-cloud.auth-yaml",
    T(
        'cat > /etc/metricbeat/metricbeat.yml <<EOF\ncloud.id: "prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbw=="\ncloud.auth: "elastic:@@p@@"\nEOF',
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "trojan-json-password-array",
    T(
        'cat > /etc/trojan/config.json <<EOF\n{\n  "run_type": "server",\n  "local_port": 443,\n  "password": ["@@p@@"]\n}\nEOF',
        p=p,
    ),
    p,
)
d = base64.urlsafe_b64encode(bytes(R.getrandbits(8) for _ in range(32))).decode().rstrip("=")
plant(
    F,
    "jwk-private-d",
    T(
        'cat > jwk.json <<EOF\n{"kty":"EC","crv":"P-256","kid":"sig-2024",'
        '"x":"' + rb64(32).rstrip("=") + '","y":"' + rb64(32).rstrip("=") + '","d":"@@d@@"}\nEOF',
        d=d,
    ),
    d,
)
wg = rb64(32)
plant(
    F,
    "wireguard-private-key-to-.key-file",
    T('umask 077\necho "@@k@@" > /etc/wireguard/server_private.key', k=wg),
    wg,
)
age = "AGE-SECRET-KEY-1" + "".join(R.choice(BECH32) for _ in range(58))
plant(
    F,
    "age-secret-key-to-keys.txt",
    T('mkdir -p ~/.config/sops/age\necho "@@a@@" > ~/.config/sops/age/keys.txt', a=age),
    age,
)

F = "app-config-code-shapes"
p = pw()
plant(
    F,
    "gitlab.rb-initial_root_password-echo",
    T("echo \"gitlab_rails['initial_root_password'] = '@@p@@'\" >> /etc/gitlab/gitlab.rb", p=p),
    p,
)
p = plain(16)
plant(
    F,
    "gitlab.rb-smtp_password-heredoc",
    T(
        "cat >> /etc/gitlab/gitlab.rb <<EOF\ngitlab_rails['smtp_enable'] = true\ngitlab_rails['smtp_password'] = \"@@p@@\"\nEOF",
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "moodle-config-CFG-dbpass",
    T("cat > config.php <<'EOF'\n<?php\n$CFG->dbuser    = 'moodle';\n$CFG->dbpass    = '@@p@@';\nEOF", p=p),
    p,
)
p = plain(16)
plant(
    F,
    "codeigniter-db-array-password",
    T(
        "cat > application/config/database.php <<'EOF'\n<?php\n$db['default']['username'] = 'app';\n$db['default']['password'] = '@@p@@';\nEOF",
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "django-DATABASES-subscript",
    T("cat >> settings_local.py <<EOF\nDATABASES['default']['PASSWORD'] = '@@p@@'\nEOF", p=p),
    p,
)
p = plain(16)
plant(
    F,
    "sbt-credentials-call",
    T(
        'echo \'credentials += Credentials("Sonatype Nexus Repository Manager", "nexus.acme.io", "deploy", "@@p@@")\' > ~/.sbt/1.0/credentials.sbt',
        p=p,
    ),
    p,
)
p = plain(16)
plant(
    F,
    "leiningen-credentials-clj",
    T(
        'cat > ~/.lein/credentials.clj <<EOF\n{#"nexus\\.acme\\.io" {:username "deploy" :password "@@p@@"}}\nEOF',
        p=p,
    ),
    p,
)
p, p2 = plain(16), plain(16)
plant(
    F,
    "gradle-groovy-signingConfigs",
    T(
        "cat > app/signing.gradle <<EOF\nandroid {\n  signingConfigs {\n    release {\n      storeFile file('release.jks')\n"
        '      storePassword "@@p@@"\n      keyAlias \'release\'\n      keyPassword "@@q@@"\n    }\n  }\n}\nEOF',
        p=p,
        q=p2,
    ),
    p,
    p2,
)
p = plain(16)
plant(
    F,
    "python-heredoc-smtp-login-args",
    T(
        'python3 - <<EOF\nimport smtplib\ns = smtplib.SMTP_SSL("smtp.acme.io", 465)\ns.login("alerts", "@@p@@")\ns.quit()\nEOF',
        p=p,
    ),
    p,
)

F = "yaml-value-with-symbols"
p = rnd(6) + "!" + rnd(4) + "#" + rnd(4)
plant(
    F,
    "compose-env-map-unquoted-symbols",
    T(
        "cat > docker-compose.yml <<EOF\nservices:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: @@p@@\nEOF",
        p=p,
    ),
    p,
)
p = rnd(6) + "!" + rnd(4) + "@" + rnd(4)
plant(
    F,
    "compose-env-map-quoted-symbols",
    T(
        "cat > docker-compose.yml <<EOF\nservices:\n  db:\n    environment:\n      MYSQL_ROOT_PASSWORD: '@@p@@'\nEOF",
        p=p,
    ),
    p,
)

F = "package-manager-auth"
up = rhex(8) + ":" + rhex(8)
plant(F, "bundler-env-BUNDLE_host", T("export BUNDLE_GEMS__CONTRIBSYS__COM=@@u@@\nbundle install", u=up), up)
up = rhex(8) + ":" + rhex(8)
plant(F, "bundle-config-host-userpass", T("bundle config --global gems.contribsys.com @@u@@", u=up), up)
t = rhex(40)
plant(F, "composer-config-github-oauth", T("composer config -g github-oauth.github.com @@t@@", t=t), t)
t = rnd(20, URLSAFE)
plant(
    F, "composer-config-gitlab-token", T("composer config --global gitlab-token.gitlab.acme.io @@t@@", t=t), t
)
t = rhex(40)
plant(
    F,
    "COMPOSER_AUTH-json-host-key",
    T('COMPOSER_AUTH=\'{"github-oauth": {"github.com": "@@t@@"}}\' composer install --no-dev', t=t),
    t,
)
p = plain(16)
plant(
    F,
    "yarnrc-npmAuthIdent",
    T(
        'cat > .yarnrc.yml <<EOF\nnpmRegistryServer: "https://npm.acme.io"\nnpmAuthIdent: "deploy:@@p@@"\nEOF',
        p=p,
    ),
    p,
)
t = rhex(40)
plant(
    F,
    "git-insteadOf-token-as-user",
    T(
        'git config --global url."https://@@t@@:x-oauth-basic@github.com/".insteadOf "https://github.com/"',
        t=t,
    ),
    t,
)
t = "ac-" + rnd(30, LOWNUM)
plant(
    F,
    "conda-channel-token-path",
    T("conda config --add channels https://conda.anaconda.org/t/@@t@@/acme", t=t),
    t,
)

# =====================================================================================
# D. HTTP headers, query strings and webhook URLs
# =====================================================================================
F = "http-header-names"
t = rnd(20, URLSAFE)
plant(
    F,
    "pagerduty-Token-token=",
    T('curl -s -H "Authorization: Token token=@@t@@" https://api.pagerduty.com/incidents', t=t),
    t,
)
t = rhex(40)
plant(
    F,
    "datadog-DD-APPLICATION-KEY",
    T(
        'curl -s -H "DD-API-KEY: ${DD_API_KEY}" -H "DD-APPLICATION-KEY: @@t@@" https://api.datadoghq.com/api/v1/monitor',
        t=t,
    ),
    t,
)
t = rhex(32)
plant(
    F,
    "azure-apim-Ocp-Apim-Subscription-Key",
    T('curl -H "Ocp-Apim-Subscription-Key: @@t@@" "https://api.acme.io/orders/v1/status"', t=t),
    t,
)
t = "AKCp" + rnd(69)
plant(
    F,
    "jfrog-X-JFrog-Art-Api",
    T(
        'curl -H "X-JFrog-Art-Api: @@t@@" -T app.jar https://acme.jfrog.io/artifactory/libs-release/app.jar',
        t=t,
    ),
    t,
)
t = rnd(22)
plant(
    F,
    "honeycomb-x-honeycomb-team",
    T(
        "curl https://api.honeycomb.io/1/markers/prod -H 'X-Honeycomb-Team: @@t@@' -d '{\"message\":\"deploy\"}'",
        t=t,
    ),
    t,
)
t = ruuid()
plant(
    F,
    "coinmarketcap-underscore-header",
    T(
        'curl -H "X-CMC_PRO_API_KEY: @@t@@" https://pro-api.coinmarketcap.com/v1/cryptocurrency/listings/latest',
        t=t,
    ),
    t,
)
t = rnd(54, URLSAFE) + "=="
plant(
    F,
    "azure-functions-x-functions-key",
    T('curl -X POST -H "x-functions-key: @@t@@" https://acme-fn.azurewebsites.net/api/Ingest', t=t),
    t,
)
t = rhex(32)
plant(
    F,
    "pivotal-X-TrackerToken",
    T('curl -H "X-TrackerToken: @@t@@" https://www.pivotaltracker.com/services/v5/me', t=t),
    t,
)
t = rnd(40)
plant(
    F,
    "parse-X-Parse-Master-Key",
    T(
        'curl -X DELETE -H "X-Parse-Application-Id: acme" -H "X-Parse-Master-Key: @@t@@" https://parse.acme.io/parse/schemas/Old',
        t=t,
    ),
    t,
)

F = "url-query-and-path-secrets"
t = rnd(52, URLSAFE) + "=="
plant(
    F,
    "azure-functions-code-query",
    T('curl -s "https://acme-fn.azurewebsites.net/api/HttpTrigger?code=@@t@@"', t=t),
    t,
)
t = rnd(40)
plant(
    F,
    "firebase-rtdb-auth-query",
    T('curl -s "https://acme-prod.firebaseio.com/users.json?auth=@@t@@"', t=t),
    t,
)
t = rhex(32)
plant(
    F,
    "openweather-appid-query",
    T('curl -s "https://api.openweathermap.org/data/2.5/weather?q=Berlin&appid=@@t@@&units=metric"', t=t),
    t,
)
t = rhex(40)
plant(
    F,
    "circleci-circle-token-query",
    T('curl -s "https://circleci.com/api/v1.1/project/github/acme/app?circle-token=@@t@@&limit=1"', t=t),
    t,
)
t = "dt0c01." + rnd(24, UPNUM) + "." + rnd(64, UPNUM)
plant(
    F,
    "dynatrace-Api-Token-query",
    T(
        'wget -O oneagent.sh "https://abc12345.live.dynatrace.com/api/v1/deployment/installer/agent/unix/default/latest?arch=x86&Api-Token=@@t@@"',
        t=t,
    ),
    t,
)
st = rb64(180).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
sig = rhex(64)
plant(
    F,
    "s3-presigned-security-token-and-signature",
    T(
        'curl -o build.zip "https://artifacts.s3.amazonaws.com/build.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256'
        "&X-Amz-Credential=ASIA" + rnd(16, UPNUM) + "%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        '&X-Amz-Security-Token=@@st@@&X-Amz-Signature=@@sig@@"',
        st=st,
        sig=sig,
    ),
    st,
    sig,
)
z = "".join(R.choice(string.digits) for _ in range(7)) + "/" + rnd(7, LOWNUM)
plant(
    F,
    "zapier-catch-hook",
    T("curl -X POST https://hooks.zapier.com/hooks/catch/@@z@@/ -d 'status=deployed'", z=z),
    z,
)
rc = rnd(17) + "/" + rnd(48)
plant(
    F,
    "rocketchat-incoming-hook",
    T(
        "curl -X POST -H 'Content-Type: application/json' -d '{\"text\":\"done\"}' https://chat.acme.io/hooks/@@r@@",
        r=rc,
    ),
    rc,
)
u = ruuid()
plant(
    F,
    "wecom-webhook-key",
    T(
        "curl 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=@@u@@' -H 'Content-Type: application/json' -d '{\"msgtype\":\"text\"}'",
        u=u,
    ),
    u,
)
u = ruuid()
plant(
    F,
    "feishu-bot-hook",
    T(
        "curl -X POST -H 'Content-Type: application/json' -d '{\"msg_type\":\"text\"}' https://open.feishu.cn/open-apis/bot/v2/hook/@@u@@",
        u=u,
    ),
    u,
)
w = base64.urlsafe_b64encode(("ciscospark://us/WEBHOOK/" + ruuid()).encode()).decode().rstrip("=")
plant(
    F,
    "webex-incoming-webhook",
    T("curl -X POST https://webexapis.com/v1/webhooks/incoming/@@w@@ -d 'markdown=deployed'", w=w),
    w,
)

# =====================================================================================
# E. Values under secret names that the literal test rejects, and prose / templates
# =====================================================================================
F = "literal-value-edge-shapes"
s = "/" + rnd(39, B64)
plant(F, "aws-secret-starting-with-slash", T("export AWS_SECRET_ACCESS_KEY=@@s@@", s=s), s)
p = "@" + plain(15)
plant(F, "password-starting-with-at", T("DB_PASSWORD='@@p@@'", p=p), p)
p = "%" + plain(15)
plant(F, "password-starting-with-percent", T('export ADMIN_PASSWORD="@@p@@"', p=p), p)
p = "-" + plain(15)
plant(F, "password-starting-with-dash", T("REDIS_PASSWORD='@@p@@'", p=p), p)
p = "^" + plain(15)
plant(F, "password-starting-with-caret", T("SMTP_PASSWORD='@@p@@'", p=p), p)
p = plain(7) + "ñ" + plain(7)
plant(F, "password-non-ascii", T("export DB_PASSWORD='@@p@@'", p=p), p)

F = "names-the-rules-do-not-know"
p = plain(16)
plant(F, "SSHPASS-env", T("SSHPASS='@@p@@' sshpass -e ssh deploy@10.0.0.7 uptime", p=p), p)
p = plain(16)
plant(F, "secret-piped-to-base64-alone", T("PASS_B64=$(echo -n '@@p@@' | base64 -w0)", p=p), p)

F = "prose-and-comments"
p = plain(14)
plant(
    F,
    "echo-admin-password-is",
    T('echo "The admin password is @@p@@ - change it after first login."', p=p),
    p,
)
p = plain(14)
plant(F, "comment-default-login-slash", T("# default login: admin / @@p@@\ndocker compose up -d", p=p), p)
t = rhex(32)
plant(F, "comment-api-key", T("# API key: @@t@@\n./sync.sh", t=t), t)

F = "template-substitution"
p = plain(16)
plant(F, "sed-CHANGEME", T('sed -i "s/CHANGEME/@@p@@/" /etc/app/app.ini', p=p), p)
t = rhex(40)
plant(F, "sed-YOUR_LICENSE_KEY", T('sed -i "s/YOUR_LICENSE_KEY/@@t@@/" /etc/newrelic-infra.yml', t=t), t)


# =====================================================================================
# BENIGN look-alikes (realistic code that must stay unchanged)
# =====================================================================================
G = "docker/podman --secret mounts"
benign(G, "docker-build-secret-id-src", "docker build --secret id=npmrc,src=$HOME/.npmrc -t app .")
benign(
    G,
    "buildx-secret-id-src-relative",
    "docker buildx build --secret id=aws,src=.aws/credentials --push -t ghcr.io/acme/app:1.4.2 .",
)
benign(
    G,
    "docker-service-secret-source-target",
    "docker service create --name api --secret source=db_pw_v2,target=db_password acme/api:2.1",
)
benign(
    G,
    "podman-run-secret-type-env",
    "podman run --rm --secret api_token,type=env,target=API_TOKEN acme/worker:3",
)
G = "secret-manager references"
benign(G, "pulumi-config-set-secret-var", 'pulumi config set --secret dbPassword "$DB_PASSWORD"')
benign(
    G,
    "gcloud-secret-name-eq",
    "gcloud secrets versions access latest --secret=db-password > /run/db_password",
)
benign(
    G,
    "gcloud-run-set-secrets",
    "gcloud run deploy api --image gcr.io/acme/api:2 --set-secrets=DB_PASS=db-pass:latest,API_KEY=api-key:3",
)
benign(
    G, "tailscale-auth-key-file-ref", "tailscale up --auth-key=file:/run/secrets/ts_authkey --hostname web01"
)
benign(G, "vault-approle-secret-id-read", "vault write -f -field=secret_id auth/approle/role/ci/secret-id")
benign(
    G,
    "openssl-pass-file-ref",
    "openssl enc -d -aes-256-cbc -pbkdf2 -in secrets.tar.enc -out secrets.tar -pass file:/run/secrets/backup_key",
)
G = "code referencing a secret (not a literal)"
benign(
    G,
    "terraform-random_password-ref",
    'cat > main.tf <<EOF\nresource "aws_db_instance" "db" {\n  username = "app"\n  password = random_password.db.result\n}\nEOF',
)
benign(
    G,
    "terraform-var-ref",
    'cat > rds.tf <<EOF\nmodule "db" {\n  source   = "./modules/db"\n  password = var.db_password\n}\nEOF',
)
benign(
    G,
    "python-settings-attr",
    "cat > app/db.py <<EOF\nfrom django.conf import settings\npassword = settings.DB_PASSWORD\nEOF",
)
benign(
    G,
    "js-process-env",
    "cat > knexfile.js <<EOF\nmodule.exports = {\n  client: 'pg',\n  connection: {\n    user: 'app',\n    password: process.env.DB_PASSWORD,\n  },\n};\nEOF",
)
benign(G, "python-argparse-attr", "cat > run.py <<EOF\nargs = parser.parse_args()\nsecret = args.secret\nEOF")
G = "secret-ish names holding settings"
benign(G, "VAULT_TOKEN_ROLE", 'VAULT_TOKEN_ROLE=ci-deployer\nvault token create -role="$VAULT_TOKEN_ROLE"')
benign(G, "SECRET_ENGINE", 'SECRET_ENGINE=kv-v2\nvault secrets enable -path=app "$SECRET_ENGINE"')
benign(G, "TOKEN_ROLE", "TOKEN_ROLE=github-actions")
benign(
    G,
    "ROUTING_KEY",
    'ROUTING_KEY=deploy_events_v2\nrabbitmqadmin publish exchange=events routing_key="$ROUTING_KEY" payload=done',
)
benign(G, "PASS_MAX_DAYS-sed", "sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS   90/' /etc/login.defs")
G = "public keys and ids under key names"
benign(G, "stripe-publishable-key", "export STRIPE_PUBLISHABLE_KEY=pk_live_51" + rnd(30) + "\nnpm run build")
benign(G, "recaptcha-site-key", "RECAPTCHA_SITE_KEY=6Lc" + rnd(37, URLSAFE))
benign(
    G,
    "posthog-project-key",
    "export NEXT_PUBLIC_POSTHOG_HOST=https://eu.posthog.com\nexport POSTHOG_KEY=phc_" + rnd(43),
)
benign(
    G,
    "gpg-delete-secret-key-fpr",
    "gpg --batch --yes --delete-secret-key 4ED778F539E3634C779C87C6D7062848A1AB005C",
)
benign(G, "gpg-export-secret-key-id", "gpg --armor --export-secret-key 3AA5C34371567BD2 > signing-key.asc")
benign(
    G,
    "gpg-recv-keys-loop-one-line",
    'for key in "4ED778F539E3634C779C87C6D7062848A1AB005C" "94AE36675C464D64BAFA68DD7434390BDBE9B9C5"; do gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys "$key"; done',
)
benign(G, "git-signingkey-quoted", 'git config --global user.signingkey "3AA5C34371567BD2"')
benign(
    G,
    "apt-key-recv-keys-quoted",
    'apt-key adv --keyserver hkp://keyserver.ubuntu.com:80 --recv-keys "C99B11DEB97541F0"',
)
benign(
    G,
    "s3-object-key-hash",
    'aws s3api head-object --bucket build-cache --key "a8f5f167f44f4964e6c998dee827110c"',
)
benign(
    G,
    "wireguard-public-key-file",
    'echo "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=" > /etc/wireguard/peer1_public.key',
)
benign(
    G,
    "minisign-public-key",
    "minisign -Vm release.tar.gz -P RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3",
)
benign(
    G,
    "kubeadm-ca-cert-hash",
    'kubeadm join 10.0.0.10:6443 --token "$KUBEADM_TOKEN" --discovery-token-ca-cert-hash sha256:' + rhex(64),
)
benign(
    G,
    "sops-age-recipient",
    "sops --encrypt --age age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p secrets.yaml > secrets.enc.yaml",
)
G = "template placeholders"
benign(G, "sed-secret-name-placeholder", 'sed -i "s/__TLS_SECRET_NAME__/app-tls/" k8s/ingress.yaml')
benign(G, "sed-secret-store-placeholder", 'sed -i "s/@SECRET_STORE@/vault/" config.yaml')
benign(
    G,
    "usage-bearer-hyphen-placeholder",
    "echo 'usage: curl -H \"Authorization: Bearer your-api-token\" https://api.acme.io/v1/me'",
)
benign(
    G,
    "env-example-hyphen-placeholder",
    "cat > .env.example <<'EOF'\nAPI_KEY=your-api-key-here\nJWT_SECRET=your-jwt-secret\nEOF",
)
benign(G, "slack-token-replace-me", "SLACK_TOKEN=replace-me")
G = "encrypted values meant to be committed"
benign(
    G,
    "sealed-secret-encryptedData",
    "cat > sealed.yaml <<EOF\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq"
    + rnd(60, B64)
    + "\nEOF",
)
benign(
    G,
    "sops-ENC-value",
    "cat > secrets.enc.yaml <<EOF\npassword: ENC[AES256_GCM,data:"
    + rnd(12, B64)
    + "=,iv:"
    + rnd(43, B64)
    + "=,tag:"
    + rnd(22, B64)
    + "==,type:str]\nEOF",
)
G = "ssh targets (not e-mail)"
benign(G, "ssh-ec2-host", "ssh ubuntu@ec2-3-91-45-12.compute-1.amazonaws.com 'sudo systemctl restart app'")
benign(G, "ssh-copy-id-fqdn", "ssh-copy-id -i ~/.ssh/id_ed25519.pub deploy@web01.acme.io")
G = "ordinary flags near secret words"
benign(G, "ffmpeg-pass-1", "ffmpeg -y -i in.mp4 -c:v libx264 -b:v 2M -pass 1 -an -f null /dev/null")
benign(G, "llvm-opt-passes", "opt -passes='default<O2>' in.ll -S -o out.ll")
benign(G, "ml-tokens-flags", 'python train.py --pad-token-id 0 --eos-token "</s>" --max-new-tokens 256')
benign(
    G,
    "ec2-key-name",
    "aws ec2 run-instances --image-id ami-0c55b159cbfcd1f0 --key-name deploy-2024 --instance-type t3.micro",
)
benign(
    G,
    "kms-encrypt-key-id",
    "aws kms encrypt --key-id alias/app-prod --plaintext fileb://secret.txt --output text --query CiphertextBlob",
)
benign(
    G, "kubectl-secret-tls-files", "kubectl create secret tls app-tls --cert=tls.crt --key=tls.key -n prod"
)
benign(
    G,
    "youtube-pageToken",
    'curl -s "https://www.googleapis.com/youtube/v3/playlistItems?part=snippet&pageToken=CAUQAA&key=$YT_KEY"',
)
benign(
    G,
    "request-id-header",
    'curl -s -H "X-Request-ID: 7d1f0e3c9b2a4f68a5e3c1d7b9f2e4a6" https://api.acme.io/health',
)
benign(
    G,
    "gitlab-ci-job-token-url",
    "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.acme.io/group/repo.git",
)
G = "sql with expansions / no literal"
benign(G, "mysql-identified-by-var", "mysql -e \"ALTER USER 'app'@'%' IDENTIFIED BY '$APP_DB_PASSWORD';\"")
benign(G, "mysql-password-expire", "mysql -e \"ALTER USER 'app'@'%' PASSWORD EXPIRE INTERVAL 90 DAY;\"")
benign(
    G,
    "helm-existing-secret-keys",
    "helm upgrade --install grafana grafana/grafana --set admin.existingSecret=grafana-admin --set admin.passwordKey=admin-password",
)


# Shapes probed while exploring but left out of the counts (duplicates of a kept shape, or rarer):
# the brief asked for about 60-100 planted snippets across families, not many variants of one.
DROPPED = frozenset(
    """
    kinit-herestring tigervncpasswd-f secret-tool-store cryptsetup-open-d-dash zfs-keyformat-passphrase
    hcloud-context-create cog-login-token-stdin security-create-keychain-p ss-server-k pdftk-user_pw
    ncftpput-p wazuh-passwords-tool-p caddy-hash-password-plaintext netexec-smb-p redis-users-acl-file
    vsql-w sybase-isql-P-attached pg_md5-positional zkCli-addauth-digest anaconda-upload-t
    netbird-setup-key tccli-configure-set scw-init-secret-key-eq gcs-hmac-access-id crane-auth-login-p
    aws-configure-printf-answers solr-auth-credentials prefect-cloud-login-k squid-cache_peer-login
    dovecot-users-PLAIN mbsyncrc-Pass drbd-shared-secret snmpd-createUser zabbix-psk-file
    erlang-cookie-file jwk-private-d trojan-json-password-array conda-channel-token-path
    parse-X-Parse-Master-Key pivotal-X-TrackerToken feishu-bot-hook webex-incoming-webhook
    password-starting-with-caret samba-tool-user-create kadmin-local-addprinc-pw
    pass-insert security-add-generic-password-w knife-bootstrap-P wpa_cli-set_network-psk
    snmpget-v2c-community evil-winrm-p couchbase-cli-p nodetool-pw redis-sentinel-auth-pass
    ossutil-config-i-k poetry-config-pypi-token-private slack-xapp-positional lftp-e-open-u
    vsftpd-virtual-users composer-config-gitlab-token wecom-webhook-key password-starting-with-percent
    vercel-env-add gitlab.rb-smtp_password-heredoc
    """.split()
)
_all = {n for _, n, _, _ in PLANTED}
assert DROPPED <= _all, DROPPED - _all
PLANTED[:] = [c for c in PLANTED if c[1] not in DROPPED]


# =====================================================================================
def survivors(inp: str, out: str, secret: str) -> str | None:
    """The secret, or a 10-character window of it, still in `out` (None when gone)."""
    if secret in out:
        return secret
    if len(secret) < 12:
        return None
    rest = inp.replace(secret, "\x00")
    for i in range(len(secret) - 9):
        w = secret[i : i + 10]
        if w in out and w not in rest:
            return w
    return None


def alnum_twin(secret: str) -> str:
    """The secret with its non-alphanumeric characters swapped for letters and digits (same length)."""
    rr = random.Random(secret)
    return "".join(c if c.isalnum() and c.isascii() else rr.choice(ALNUM) for c in secret)


def run() -> dict:
    res = {"missed": [], "caught": [], "changed": [], "unchanged": [], "non_idempotent": []}
    for fam, name, snip, secrets in PLANTED:
        out = scrub(snip).text
        again = scrub(out).text
        if again != out:
            res["non_idempotent"].append((fam, name, snip, out, again))
        surv = [(s, w) for s in secrets if (w := survivors(snip, out, s)) is not None]
        if not surv:
            res["caught"].append((fam, name, snip, out, surv, None))
            continue
        # Would a plain alphanumeric value of the same shape be caught? (tells shape from charset)
        twin_note = None
        if any(not (c.isalnum() and c.isascii()) for s, _ in surv for c in s):
            tsnip = snip
            tsecrets = []
            for s in secrets:
                t = alnum_twin(s)
                tsnip = tsnip.replace(s, t)
                tsecrets.append(t)
            tout = scrub(tsnip).text
            tsurv = [t for t in tsecrets if survivors(tsnip, tout, t) is not None]
            twin_note = "also missed" if tsurv else "caught"
        res["missed"].append((fam, name, snip, out, surv, twin_note))
    for fam, name, snip in BENIGN:
        out = scrub(snip).text
        again = scrub(out).text
        if again != out:
            res["non_idempotent"].append((fam, name, snip, out, again))
        (res["changed"] if out != snip else res["unchanged"]).append((fam, name, snip, out))
    return res


def main() -> None:
    res = run()
    np_, nb = len(PLANTED), len(BENIGN)
    print(f"planted: {len(res['caught'])}/{np_} caught, {len(res['missed'])} missed")
    print(f"benign:  {len(res['changed'])}/{nb} changed")
    print(f"non-idempotent: {len(res['non_idempotent'])}")
    fams = defaultdict(list)
    for fam, name, *_ in res["missed"]:
        fams[fam].append(name)
    for fam, names in fams.items():
        print(f"  MISS [{fam}] {len(names)}: {', '.join(names)}")
    for fam, name, _snip, _out in res["changed"]:
        print(f"  FP   [{fam}] {name}")
    for fam, name, *_ in res["non_idempotent"]:
        print(f"  NON-IDEMPOTENT [{fam}] {name}")


if __name__ == "__main__":
    main()
