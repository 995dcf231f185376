#!/usr/bin/env python3
"""Recall of the credential scrubber on shapes it was not written from, and its false positives.

A second benchmark beside bench/secret_recall.py, written independently of it
by red-teaming the scrubber (2026-11-30): planted snippets in two tiers and
benign look-alikes, the way GitHub deploy, CI and provisioning scripts look.
The `checklist` tier covers every kind of secret in fresh contexts, not aimed
at known gaps: the better guess at an unseen evaluation's recall. The `probe`
tier was written after reading the rules, aimed at suspected gaps: a map of
missing rules, not a recall figure. Secrets come from a fixed seed, so runs
compare.

    .venv/bin/python bench/secret_unseen.py            # counts + every failure
    .venv/bin/python bench/secret_unseen.py --quiet    # counts + failure names
    .venv/bin/python bench/secret_unseen.py --json out.json

A planted case is a MISS when any of its secrets, or any 8-character window of
one (windows that also occur in the input outside the secret, or that hold no
digit when the secret has digits, are ignored), survives in the output. A
benign case is a FALSE POSITIVE when the output differs from the input at all.
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bashcoder.trainer.collect.secrets import scrub  # noqa: E402

R = random.Random(90210)
ALNUM = string.ascii_letters + string.digits
UPNUM = string.ascii_uppercase + string.digits
LOWNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    while True:
        s = "".join(R.choice(alphabet) for _ in range(n))
        if n < 8 or all(
            any(c in cls for c in s)
            for cls in (string.digits, string.ascii_lowercase, string.ascii_uppercase)
            if any(c in cls for c in alphabet)
        ):
            return s


def rhex(n: int) -> str:
    while True:
        s = "".join(R.choice(HEX) for _ in range(n))
        if any(c.isdigit() for c in s) and any(c.isalpha() for c in s):
            return s


def ruuid() -> str:
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def rb64(nbytes: int) -> str:
    return base64.b64encode(bytes(R.getrandbits(8) for _ in range(nbytes))).decode()


def pw(n: int = 14) -> str:
    """A generated password with a symbol or two, shell-safe inside single quotes."""
    body = rnd(n - 2)
    i = R.randrange(1, len(body))
    return body[:i] + R.choice("!#%+") + body[i:] + R.choice("!#%*.")


def pw_plain(n: int = 16) -> str:
    return rnd(n)


H = "#!/usr/bin/env bash\nset -euo pipefail\n"

# (name, family, script, secrets, tier); tier "probe": written after reading the rules, aimed at
# suspected gaps; tier "checklist": the brief's list of secret kinds, in fresh contexts, not aimed.
PLANTED: list[tuple[str, str, str, list[str], str]] = []
TIER = "probe"
# (name, script)
BENIGN: list[tuple[str, str]] = []


def plant(name: str, family: str, script: str, *secrets: str) -> None:
    PLANTED.append((name, family, script.strip("\n") + "\n", list(secrets), TIER))


def benign(name: str, script: str) -> None:
    BENIGN.append((name, script.strip("\n") + "\n"))


# =============================================================================================
# PLANTED
# =============================================================================================

# ---- Java/Gradle/Maven dotted property keys (application.properties, -D, -P) ----------------
p = pw_plain(18)
plant(
    "props/application.properties-heredoc",
    "dotted-property-keys",
    f"""cat > src/main/resources/application-prod.properties <<EOF
spring.datasource.url=jdbc:postgresql://db.prod.internal:5432/orders
spring.datasource.username=orders_svc
spring.datasource.password={p}
spring.jpa.hibernate.ddl-auto=validate
EOF
./mvnw -q -DskipTests package""",
    p,
)
p = pw_plain(16)
plant(
    "props/java-D-flag",
    "dotted-property-keys",
    f"""#!/bin/sh
exec java -Xmx512m \\
  -Dspring.profiles.active=prod \\
  -Dspring.datasource.password={p} \\
  -jar /opt/app/app.jar""",
    p,
)
t = rhex(40)
plant(
    "props/sonar-login-D",
    "dotted-property-keys",
    f"""mvn -B verify sonar:sonar \\
  -Dsonar.projectKey=acme_billing \\
  -Dsonar.host.url=https://sonarcloud.io \\
  -Dsonar.token={t}""",
    t,
)
p = pw_plain(20)
plant(
    "props/gradle-signing-P",
    "dotted-property-keys",
    f"""./gradlew assembleRelease \\
  -Pandroid.injected.signing.store.file=$PWD/release.jks \\
  -Pandroid.injected.signing.store.password={p} \\
  -Pandroid.injected.signing.key.alias=upload""",
    p,
)
p = pw_plain(16)
plant(
    "props/gradle.properties-heredoc",
    "dotted-property-keys",
    f"""mkdir -p ~/.gradle
cat >> ~/.gradle/gradle.properties <<'EOF'
signing.keyId=24875D73
signing.password={p}
signing.secretKeyRingFile=/home/ci/.gnupg/secring.gpg
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "props/JAVA_OPTS-keystore",
    "dotted-property-keys",
    f"""export JAVA_OPTS="$JAVA_OPTS -Djavax.net.ssl.keyStore=/etc/app/keystore.jks -Djavax.net.ssl.keyStorePassword={p}"
/opt/tomcat/bin/catalina.sh run""",
    p,
)

# ---- YAML with an unquoted value under a *_PASSWORD / *_TOKEN / license_key key --------------
p = pw_plain(18)
plant(
    "yaml/compose-environment-map",
    "yaml-unquoted-secret-key",
    f"""cat > docker-compose.yml <<EOF
services:
  db:
    image: mysql:8.0
    environment:
      MYSQL_DATABASE: shop
      MYSQL_ROOT_PASSWORD: {p}
    ports:
      - "3306:3306"
EOF
docker compose up -d""",
    p,
)
t = rhex(40)
plant(
    "yaml/newrelic-license-key-tee",
    "yaml-unquoted-secret-key",
    f"""echo "license_key: {t}" | sudo tee -a /etc/newrelic-infra.yml
curl -s https://download.newrelic.com/infrastructure_agent/gpg/newrelic-infra.gpg | sudo apt-key add -""",
    t,
)
p = pw_plain(20)
plant(
    "yaml/k8s-secret-stringData-upper",
    "yaml-unquoted-secret-key",
    f"""kubectl apply -f - <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: app-env
type: Opaque
stringData:
  DB_PASSWORD: {p}
  DB_USER: app
EOF""",
    p,
)
t = rhex(32)
plant(
    "yaml/datadog-echo-api_key",
    "yaml-unquoted-secret-key",
    f"""sudo cp /etc/datadog-agent/datadog.yaml.example /etc/datadog-agent/datadog.yaml
echo "api_key: {t}" | sudo tee -a /etc/datadog-agent/datadog.yaml
sudo systemctl restart datadog-agent""",
    t,
)
t = rhex(48)
plant(
    "yaml/gem-credentials",
    "yaml-unquoted-secret-key",
    f"""mkdir -p ~/.gem
cat > ~/.gem/credentials <<EOF
---
:rubygems_api_key: rubygems_{t}
EOF
chmod 0600 ~/.gem/credentials
gem push pkg/*.gem""",
    t,
)
p = pw_plain(16)
plant(
    "yaml/github-actions-env-map",
    "yaml-unquoted-secret-key",
    f"""cat > .github/workflows/it.yml <<'EOF'
jobs:
  it:
    runs-on: ubuntu-latest
    env:
      REDIS_PASSWORD: {p}
    steps:
      - run: make it
EOF""",
    p,
)

# ---- XML config (Maven settings.xml, NuGet.config) -----------------------------------------
p = pw_plain(18)
plant(
    "xml/maven-settings",
    "xml-config",
    f"""mkdir -p ~/.m2
cat > ~/.m2/settings.xml <<EOF
<settings>
  <servers>
    <server>
      <id>nexus-releases</id>
      <username>deployer</username>
      <password>{p}</password>
    </server>
  </servers>
</settings>
EOF
mvn -B deploy""",
    p,
)
p = pw_plain(24)
plant(
    "xml/nuget-config-cleartext",
    "xml-config",
    f"""cat > NuGet.Config <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSourceCredentials>
    <acme>
      <add key="Username" value="build" />
      <add key="ClearTextPassword" value="{p}" />
    </acme>
  </packageSourceCredentials>
</configuration>
EOF""",
    p,
)
t = rnd(46, LOWNUM)
plant(
    "xml/nuget-apikey-setting",
    "xml-config",
    f"""cat > ~/.nuget/NuGet/NuGet.Config <<EOF
<configuration>
  <apikeys>
    <add key="https://www.nuget.org/api/v2/package" value="oy2{t}" />
  </apikeys>
</configuration>
EOF""",
    t,
)

# ---- PHP define() (wp-config) ----------------------------------------------------------------
p = pw(16)
plant(
    "php/wp-config-define-db-password",
    "php-define",
    f"""cat > /var/www/html/wp-config.php <<'EOF'
<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', '{p}' );
define( 'DB_HOST', 'localhost' );
EOF""",
    p,
)
k = rnd(64, ALNUM + "!#%*+-=")
plant(
    "php/wp-config-auth-key",
    "php-define",
    f"""cat >> wp-config.php <<'EOF'
define('AUTH_KEY',         '{k}');
define('WP_DEBUG', false);
EOF""",
    k,
)

# ---- sed lines that write a password in ------------------------------------------------------
p = pw_plain(14)
plant(
    "sed/wp-config-sample-password_here",
    "sed-password",
    f"""cp wp-config-sample.php wp-config.php
sed -i "s/database_name_here/wordpress/" wp-config.php
sed -i "s/username_here/wpuser/" wp-config.php
sed -i "s/password_here/{p}/" wp-config.php""",
    p,
)
p = pw_plain(16)
plant(
    "sed/backreference-group",
    "sed-password",
    f"""sed -i -e "s/^\\(password\\s*=\\s*\\).*/\\1{p}/" /etc/zabbix/zabbix_server.conf
systemctl restart zabbix-server""",
    p,
)
p = pw_plain(20)
plant(
    "sed/redis-requirepass",
    "redis-requirepass",
    f"""sudo sed -i 's/^# requirepass foobared/requirepass {p}/' /etc/redis/redis.conf
sudo systemctl restart redis-server""",
    p,
)

# ---- redis requirepass elsewhere -------------------------------------------------------------
p = pw_plain(24)
plant(
    "redis/server-flag",
    "redis-requirepass",
    f"""docker run -d --name cache -p 6379:6379 redis:7-alpine \\
  redis-server --appendonly yes --requirepass {p}""",
    p,
)
p = pw_plain(24)
plant(
    "redis/echo-into-conf",
    "redis-requirepass",
    f"""echo "requirepass {p}" >> /etc/redis/redis.conf
echo "masterauth {p}" >> /etc/redis/redis.conf""",
    p,
)
p = pw_plain(22)
plant(
    "redis/cli-config-set",
    "redis-requirepass",
    f"""redis-cli -h 127.0.0.1 CONFIG SET requirepass "{p}"
redis-cli -h 127.0.0.1 CONFIG REWRITE""",
    p,
)

# ---- SQL variants ----------------------------------------------------------------------------
p = pw_plain(16)
plant(
    "sql/postgres-alter-user-password-no-with",
    "sql-password-variants",
    f"""docker exec -i pg psql -U postgres <<EOF
ALTER USER postgres PASSWORD '{p}';
CREATE DATABASE app OWNER postgres;
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "sql/mssql-create-login-with-password-eq",
    "sql-password-variants",
    f"""/opt/mssql-tools/bin/sqlcmd -S localhost -U sa -P "$SA_PASSWORD" -Q "CREATE LOGIN app_user WITH PASSWORD = '{p}', CHECK_POLICY = OFF"
""",
    p,
)
p = pw_plain(12)
plant(
    "sql/oracle-identified-by-unquoted",
    "sql-password-variants",
    f"""sqlplus -s / as sysdba <<EOF
CREATE USER app IDENTIFIED BY {p} DEFAULT TABLESPACE users QUOTA UNLIMITED ON users;
GRANT CONNECT, RESOURCE TO app;
EXIT;
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "sql/cassandra-role-with-password-eq",
    "sql-password-variants",
    f"""cqlsh -u cassandra -p "$CASS_PW" -e "CREATE ROLE app WITH PASSWORD = '{p}' AND LOGIN = true;"
""",
    p,
)
p = pw_plain(16)
plant(
    "sql/neo4j-set-initial-password",
    "tool-positional-password",
    f"""neo4j-admin dbms set-initial-password {p}
neo4j start""",
    p,
)
p = pw_plain(16)
plant(
    "sql/neo4j-auth-env",
    "env-name-not-secret",
    f"""docker run -d --name graph -p 7474:7474 -p 7687:7687 \\
  -e NEO4J_AUTH=neo4j/{p} \\
  neo4j:5""",
    p,
)

# ---- Mongo shell JS ----------------------------------------------------------------------------
p = pw_plain(18)
plant(
    "mongo/createUser-pwd",
    "mongo-pwd-field",
    f"""mongosh admin --quiet --eval 'db.createUser({{user: "appAdmin", pwd: "{p}", roles: [{{role: "readWrite", db: "app"}}]}})'
""",
    p,
)
p = pw_plain(18)
plant(
    "mongo/init-js-heredoc",
    "mongo-pwd-field",
    f"""cat > /docker-entrypoint-initdb.d/init.js <<'EOF'
db = db.getSiblingDB('orders');
db.createUser({{
  user: 'orders',
  pwd: '{p}',
  roles: ['readWrite']
}});
EOF""",
    p,
)
p = pw_plain(18)
plant(
    "mongo/changeUserPassword",
    "mongo-pwd-field",
    f"""mongo admin -u root -p "$ROOT_PW" --eval "db.changeUserPassword('reporting', '{p}')"
""",
    p,
)

# ---- ODBC / ADO connection strings -----------------------------------------------------------
p = pw_plain(16)
plant(
    "conn/odbc-Pwd",
    "connection-string-pwd",
    f"""isql -v -k "Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:sql01,1433;Database=erp;Uid=etl;Pwd={p};Encrypt=no"
""",
    p,
)
k = rb64(32)
plant(
    "conn/servicebus-SharedAccessKey",
    "connection-string-pwd",
    f"""export SERVICEBUS_CONNECTION="Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={k}"
dotnet run --project Worker""",
    k,
)
p = pw_plain(16)
plant(
    "conn/jdbc-sqlserver-semicolon",
    "connection-string-pwd",
    f"""liquibase --url="jdbc:sqlserver://sql01:1433;databaseName=erp;user=liquibase;password={p};encrypt=false" update
""",
    p,
)

# ---- escaped-newline config writes (printf/echo -e "a\\npassword=...") -----------------------
p = pw_plain(16)
plant(
    "printf/my.cnf-backslash-n",
    "escaped-newline-config",
    f"""printf "[client]\\nuser=root\\npassword={p}\\n" > ~/.my.cnf
chmod 600 ~/.my.cnf
mysqldump --all-databases > /backup/all.sql""",
    p,
)
p = pw_plain(16)
plant(
    "printf/smb-credentials-file",
    "escaped-newline-config",
    f"""printf 'username=svc_backup\\npassword={p}\\ndomain=CORP\\n' | sudo tee /root/.smbcredentials >/dev/null
sudo mount -t cifs //nas01/backup /mnt/backup -o credentials=/root/.smbcredentials""",
    p,
)
p = pw_plain(16)
plant(
    "echo-e/openvpn-auth-file",
    "escaped-newline-config",
    f"""echo -e "vpnuser\\n{p}" > /etc/openvpn/auth.txt
chmod 600 /etc/openvpn/auth.txt
openvpn --config client.ovpn --auth-user-pass /etc/openvpn/auth.txt --daemon""",
    p,
)

# ---- escaped JSON in double quotes -----------------------------------------------------------
p = pw_plain(18)
plant(
    "json/escaped-password-login",
    "escaped-json",
    f"""TOKEN=$(curl -s -X POST "https://portainer.local:9443/api/auth" \\
  -H "Content-Type: application/json" \\
  -d "{{\\"Username\\":\\"admin\\",\\"Password\\":\\"{p}\\"}}" | jq -r .jwt)""",
    p,
)
t = rnd(40)
plant(
    "json/escaped-apiKey",
    "escaped-json",
    f"""curl -s -X POST https://api.example-sms.com/v1/send -H 'Content-Type: application/json' \\
  --data "{{\\"apiKey\\": \\"{t}\\", \\"to\\": \\"$PHONE\\", \\"text\\": \\"deploy ok\\"}}"
""",
    t,
)
p = pw_plain(16)
plant(
    "json/pwd-key",
    "mongo-pwd-field",
    f"""curl -s -X POST http://10.0.0.20/cgi-bin/login -d '{{"user":"admin","pwd":"{p}"}}' -c cookies.txt
""",
    p,
)

# ---- single-dash flags (Go CLIs: consul/nomad/vault; java tools) ------------------------------
t = ruuid()
plant(
    "flag1/consul-token-eq",
    "single-dash-flag",
    f"""consul kv put -token={t} config/app/feature_x true
consul members -token={t}""",
    t,
)
t = ruuid()
plant(
    "flag1/nomad-token-space",
    "single-dash-flag",
    f"""nomad job run -address=https://nomad.internal:4646 -token {t} jobs/api.nomad.hcl
""",
    t,
)
p = pw_plain(16)
plant(
    "flag1/jenkins-cli-auth",
    "single-dash-flag",
    f"""curl -sO http://jenkins.local:8080/jnlpJars/jenkins-cli.jar
java -jar jenkins-cli.jar -s http://jenkins.local:8080/ -auth admin:{p} install-plugin git workflow-aggregator -restart""",
    p,
)
p = pw_plain(16)
plant(
    "flag1/nuget-Password",
    "single-dash-flag",
    f"""nuget sources add -Name acme -Source https://pkgs.acme.io/nuget/v3/index.json -UserName build -Password {p}
""",
    p,
)

# ---- --xxx-password / --xxx-token in the space form, and underscore flags -------------------
p = pw_plain(20)
plant(
    "flag/aws-rds-master-user-password",
    "generic-long-flag-space",
    f"""aws rds create-db-instance \\
  --db-instance-identifier orders-prod \\
  --engine postgres --db-instance-class db.t3.medium \\
  --master-username dbadmin \\
  --master-user-password {p} \\
  --allocated-storage 50""",
    p,
)
p = pw_plain(20)
plant(
    "flag/az-webapp-docker-registry-password",
    "generic-long-flag-space",
    f"""az webapp config container set --name acme-api --resource-group rg-prod \\
  --docker-custom-image-name acmecr.azurecr.io/api:1.8.2 \\
  --docker-registry-server-url https://acmecr.azurecr.io \\
  --docker-registry-server-user acmecr \\
  --docker-registry-server-password {p}""",
    p,
)
t = rnd(40)
plant(
    "flag/github-token-space",
    "generic-long-flag-space",
    f"""ghr --help >/dev/null
goreleaser release --clean
github-release upload --user acme --repo cli --tag v2.3.0 --name cli-linux-amd64 --file dist/cli --security-token {t}""",
    t,
)
t = rnd(40)
plant(
    "flag/travis-github-token",
    "generic-long-flag-space",
    f"""gem install travis
travis login --pro --github-token {t}
travis encrypt-file deploy_key --add""",
    t,
)
t = "tskey-auth-" + rnd(12) + "CNTRL-" + rnd(32)
plant(
    "flag/tailscale-authkey-space",
    "generic-long-flag-space",
    f"""curl -fsSL https://tailscale.com/install.sh | sh
sudo tailscale up --authkey {t} --advertise-tags=tag:ci""",
    t,
)
p = pw_plain(20)
plant(
    "flag/kubectl-docker-password-space",
    "generic-long-flag-space",
    f"""kubectl create secret docker-registry regcred \\
  --docker-server=registry.acme.io \\
  --docker-username=robot$ci \\
  --docker-password {p} \\
  -n apps""",
    p,
)
t = "nfp_" + rnd(36)
plant(
    "flag/netlify-auth",
    "generic-long-flag-space",
    f"""npx netlify-cli deploy --dir=public --prod --site 3b5c8e2a-app --auth {t}
""",
    t,
)
k = rnd(40, B64)
plant(
    "flag/s3cmd-underscore-eq",
    "underscore-long-flag",
    f"""s3cmd --access_key=AKIA{rnd(16, UPNUM)[:0]}EXAMPLEID --secret_key={k} \\
  sync ./public/ s3://acme-static/ --acl-public""",
    k,
)
t = rnd(32, LOWNUM)
plant(
    "flag/api_key-underscore-eq",
    "underscore-long-flag",
    f"""python3 scripts/push_metrics.py --api_key={t} --env production --since 24h
""",
    t,
)
p = pw_plain(16)
plant(
    "flag/password-then-continuation",
    "continuation-value",
    f"""argocd login argocd.acme.io --grpc-web --username admin --password \\
  {p}
argocd app sync web""",
    p,
)

# ---- CLIs that store a secret value: --value / --body / --secret-string / stdin -------------
p = pw_plain(20)
plant(
    "store/aws-ssm-put-parameter",
    "secret-store-cli-value",
    f"""aws ssm put-parameter --name /prod/orders/db_password --type SecureString \\
  --value '{p}' --overwrite""",
    p,
)
p = pw_plain(20)
plant(
    "store/aws-secretsmanager-secret-string",
    "secret-store-cli-value",
    f"""aws secretsmanager create-secret --name prod/stripe/webhook \\
  --secret-string {p}""",
    p,
)
p = pw_plain(24)
plant(
    "store/az-keyvault-secret-set",
    "secret-store-cli-value",
    f"""az keyvault secret set --vault-name kv-acme-prod --name sql-admin-password --value "{p}"
""",
    p,
)
t = rnd(32)
plant(
    "store/gh-secret-set-body",
    "secret-store-cli-value",
    f"""gh secret set CODECOV_TOKEN --repo acme/api --body "{t}"
gh secret list --repo acme/api""",
    t,
)
p = pw_plain(20)
plant(
    "store/gcloud-secrets-stdin",
    "stdin-to-secret-tool",
    f"""echo -n "{p}" | gcloud secrets create db-password --replication-policy=automatic --data-file=-
""",
    p,
)
p = pw_plain(20)
plant(
    "store/docker-secret-create-stdin",
    "stdin-to-secret-tool",
    f"""printf '{p}' | docker secret create mysql_root_password -
docker stack deploy -c stack.yml shop""",
    p,
)
t = rnd(32)
plant(
    "store/gh-secret-set-stdin",
    "stdin-to-secret-tool",
    f"""echo "{t}" | gh secret set SONAR_TOKEN --repo acme/api
""",
    t,
)
p = pw_plain(16)
plant(
    "store/elasticsearch-keystore-stdin",
    "stdin-to-secret-tool",
    f"""echo "{p}" | /usr/share/elasticsearch/bin/elasticsearch-keystore add -x bootstrap.password
""",
    p,
)
p = pw_plain(16)
plant(
    "store/ansible-vault-encrypt-string",
    "tool-positional-password",
    f"""ansible-vault encrypt_string '{p}' --name 'db_password' >> group_vars/prod/vault.yml
""",
    p,
)

# ---- stdin / herestring / heredoc to password-reading commands --------------------------------
p = pw_plain(12)
plant(
    "stdin/sudo-S-herestring",
    "stdin-to-password-tool",
    f"""sudo -S apt-get -y install nginx <<< "{p}"
""",
    p,
)
p = pw_plain(14)
plant(
    "stdin/chpasswd-herestring",
    "stdin-to-password-tool",
    f"""useradd -m -s /bin/bash deploy
chpasswd <<< "deploy:{p}"
usermod -aG sudo deploy""",
    p,
)
p = pw_plain(14)
plant(
    "stdin/chpasswd-echo-e",
    "stdin-to-password-tool",
    f"""echo -e "ubuntu:{p}" | chpasswd
sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config""",
    p,
)
p = pw_plain(14)
plant(
    "stdin/chpasswd-heredoc",
    "stdin-to-password-tool",
    f"""chpasswd <<EOF
root:{p}
vagrant:vagrant
EOF""",
    p,
)
p = pw_plain(10)
plant(
    "stdin/vncpasswd-f",
    "stdin-to-password-tool",
    f"""mkdir -p ~/.vnc
echo "{p}" | vncpasswd -f > ~/.vnc/passwd
chmod 600 ~/.vnc/passwd""",
    p,
)
p = pw_plain(12)
plant(
    "stdin/smbpasswd",
    "stdin-to-password-tool",
    f"""useradd -M -s /sbin/nologin share
(echo "{p}"; echo "{p}") | smbpasswd -s -a share""",
    p,
)
p = pw_plain(14)
plant(
    "stdin/openssl-passwd-stdin",
    "stdin-to-password-tool",
    f"""HASH=$(echo "{p}" | openssl passwd -6 -stdin)
useradd -m -p "$HASH" ops""",
    p,
)
p = pw_plain(14)
plant(
    "tool/openssl-passwd-arg",
    "tool-positional-password",
    f"""useradd -m -s /bin/bash -p "$(openssl passwd -1 '{p}')" jenkins
""",
    p,
)
p = pw_plain(12)
plant(
    "tool/mkpasswd-arg",
    "tool-positional-password",
    f"""usermod --password "$(mkpasswd -m sha-512 {p})" pi
""",
    p,
)
p = pw_plain(14)
plant(
    "stdin/x11vnc-storepasswd",
    "tool-positional-password",
    f"""x11vnc -storepasswd {p} /etc/x11vnc.pass
x11vnc -forever -rfbauth /etc/x11vnc.pass -display :0 &""",
    p,
)
p = pw_plain(14)
plant(
    "stdin/mysql_secure_installation-heredoc",
    "answers-heredoc",
    f"""mysql_secure_installation <<EOF

y
{p}
{p}
y
y
y
y
EOF""",
    p,
)

# ---- debconf preseeding -----------------------------------------------------------------------
p = pw_plain(16)
plant(
    "debconf/mysql-root-password-echo",
    "debconf-preseed",
    f"""export DEBIAN_FRONTEND=noninteractive
echo "mysql-server mysql-server/root_password password {p}" | debconf-set-selections
echo "mysql-server mysql-server/root_password_again password {p}" | debconf-set-selections
apt-get install -y mysql-server""",
    p,
)
p = pw_plain(16)
plant(
    "debconf/phpmyadmin-herestring",
    "debconf-preseed",
    f"""debconf-set-selections <<< "phpmyadmin phpmyadmin/mysql/admin-pass password {p}"
debconf-set-selections <<< "phpmyadmin phpmyadmin/app-password-confirm password {p}"
apt-get -y install phpmyadmin""",
    p,
)

# ---- expect scripts ------------------------------------------------------------------------------
p = pw_plain(14)
plant(
    "expect/send-password-inline",
    "expect-send",
    f"""expect -c "
spawn ssh-copy-id -o StrictHostKeyChecking=no pi@192.168.1.50
expect \\"password:\\"
send \\"{p}\\r\\"
expect eof
" """,
    p,
)
p = pw_plain(14)
plant(
    "expect/heredoc",
    "expect-send",
    f"""/usr/bin/expect <<EOF
set timeout 20
spawn scp backup.tar.gz admin@10.0.3.4:/srv/backups/
expect "*assword:*"
send "{p}\\r"
expect eof
EOF""",
    p,
)

# ---- ftp heredoc ---------------------------------------------------------------------------------
p = pw_plain(12)
plant(
    "ftp/heredoc-user",
    "ftp-heredoc-user",
    f"""ftp -inv ftp.acme-hosting.net <<EOF
user webdeploy {p}
cd /public_html
mput *.html
bye
EOF""",
    p,
)

# ---- tool positional / tool-specific options ---------------------------------------------------
p = pw_plain(20)
plant(
    "tool/mc-alias-set",
    "tool-positional-password",
    f"""mc alias set backup https://s3.backup.acme.io backupuser {p}
mc mirror --overwrite /srv/data backup/data""",
    p,
)
p = pw_plain(16)
plant(
    "tool/grafana-cli-reset-admin",
    "tool-positional-password",
    f"""grafana-cli admin reset-admin-password {p}
systemctl restart grafana-server""",
    p,
)
p = pw_plain(14)
plant(
    "tool/oc-login-p",
    "tool-specific-password-option",
    f"""oc login https://api.ocp.acme.io:6443 -u kubeadmin -p {p} --insecure-skip-tls-verify
oc project payments""",
    p,
)
p = pw_plain(14)
plant(
    "tool/helm-registry-login-p",
    "tool-specific-password-option",
    f"""helm registry login registry.acme.io -u robot -p {p}
helm push chart-1.2.0.tgz oci://registry.acme.io/charts""",
    p,
)
p = pw_plain(14)
plant(
    "tool/cf-login-p",
    "tool-specific-password-option",
    f"""cf api https://api.sys.pcf.acme.io
cf login -u ci-deployer -p {p} -o acme -s production
cf push web -f manifest.yml""",
    p,
)
p = pw_plain(14)
plant(
    "tool/twine-p-plain-password",
    "tool-specific-password-option",
    f"""python -m build
twine upload --repository-url https://nexus.acme.io/repository/pypi-internal/ -u deployer -p {p} dist/*""",
    p,
)
p = pw_plain(14)
plant(
    "tool/plink-pw",
    "tool-specific-password-option",
    f"""plink -ssh -batch -pw {p} admin@10.10.0.5 "systemctl restart app"
pscp -pw {p} build.zip admin@10.10.0.5:/tmp/""",
    p,
)
p = pw_plain(14)
plant(
    "tool/rabbitmqadmin-p",
    "tool-specific-password-option",
    f"""rabbitmqadmin -H mq.internal -u admin -p {p} declare queue name=jobs durable=true
""",
    p,
)
p = pw_plain(14)
plant(
    "tool/elasticsearch-users-useradd",
    "tool-specific-password-option",
    f"""/usr/share/elasticsearch/bin/elasticsearch-users useradd logstash_writer -p {p} -r logstash_writer
""",
    p,
)
p = pw_plain(14)
plant(
    "tool/slappasswd-s",
    "tool-specific-password-option",
    f"""HASH=$(slappasswd -s {p})
sed -i "s|^olcRootPW:.*|olcRootPW: $HASH|" /etc/ldap/slapd.d/cn=config/olcDatabase={{1}}mdb.ldif""",
    p,
)
t = ruuid()
plant(
    "tool/codecov-bash-t",
    "tool-specific-password-option",
    f"""bash <(curl -s https://codecov.io/bash) -t {t} -f coverage.xml
""",
    t,
)
t = ruuid()
plant(
    "tool/snyk-auth",
    "tool-positional-password",
    f"""npm install -g snyk
snyk auth {t}
snyk test --severity-threshold=high""",
    t,
)
p = pw_plain(16)
plant(
    "tool/poetry-http-basic",
    "tool-positional-password",
    f"""poetry config repositories.acme https://pypi.acme.io/simple/
poetry config http-basic.acme deployer {p}
poetry publish -r acme""",
    p,
)
k = rhex(32)
plant(
    "tool/composer-magento-http-basic",
    "tool-positional-password",
    f"""composer config -g http-basic.repo.magento.com {rhex(32)} {k}
composer create-project --repository-url=https://repo.magento.com/ magento/project-community-edition .""",
    k,
)
p = pw_plain(16)
plant(
    "tool/npm-config-quoted-name",
    "tool-positional-password",
    f"""npm config set '//npm.pkg.github.com/:_authToken' '{p}'
npm publish""",
    p,
)
t = "s." + rnd(24)
plant(
    "tool/vault-login-legacy-token",
    "token-format-uncovered",
    f"""export VAULT_ADDR=https://vault.acme.io:8200
vault login {t}
vault kv get secret/ci""",
    t,
)
k = rhex(32)
plant(
    "tool/crudini-set",
    "ini-setter-cli",
    f"""crudini --set /etc/keystone/keystone.conf DEFAULT admin_token {k}
crudini --set /etc/glance/glance-api.conf keystone_authtoken password {pw_plain(14)}""",
    k,
)
p = pw_plain(16)
plant(
    "tool/openstack-config-set",
    "ini-setter-cli",
    f"""openstack-config --set /etc/nova/nova.conf keystone_authtoken password {p}
openstack-config --set /etc/nova/nova.conf keystone_authtoken username nova""",
    p,
)

# ---- HTTP auth headers with other names or schemes --------------------------------------------
t = rhex(37)
plant(
    "header/cloudflare-x-auth-key",
    "auth-header-variants",
    f"""curl -s -X PURGE "https://api.cloudflare.com/client/v4/zones/$ZONE_ID/purge_cache" \\
  -H "X-Auth-Email: ops@acme.io" \\
  -H "X-Auth-Key: {t}" \\
  -H "Content-Type: application/json" --data '{{"purge_everything":true}}'""",
    t,
)
t = rhex(40)
plant(
    "header/circle-token",
    "auth-header-variants",
    f"""curl -s -X POST https://circleci.com/api/v2/project/gh/acme/api/pipeline \\
  -H "Circle-Token: {t}" -H 'Content-Type: application/json' -d '{{"branch":"main"}}'""",
    t,
)
t = "00" + rnd(40, URLSAFE)
plant(
    "header/okta-ssws",
    "auth-header-variants",
    f"""curl -s -H "Accept: application/json" \\
  -H "Authorization: SSWS {t}" \\
  "https://acme.okta.com/api/v1/users?limit=25" """,
    t,
)
t = ruuid()
plant(
    "header/splunk-hec",
    "auth-header-variants",
    f"""curl -k https://splunk.acme.io:8088/services/collector/event \\
  -H "Authorization: Splunk {t}" \\
  -d '{{"event": "deploy finished", "sourcetype": "ci"}}'""",
    t,
)
t = ruuid()
plant(
    "header/postmark-server-token",
    "auth-header-variants",
    f"""curl "https://api.postmarkapp.com/email" -X POST -H "Accept: application/json" \\
  -H "Content-Type: application/json" -H "X-Postmark-Server-Token: {t}" \\
  -d '{{"From": "ci@acme.io", "To": "ops@acme.io", "Subject": "build", "TextBody": "ok"}}'""",
    t,
)
t = "figd_" + rnd(40, URLSAFE)
plant(
    "header/x-figma-token",
    "auth-header-variants",
    f"""curl -s -H "X-Figma-Token: {t}" "https://api.figma.com/v1/files/$FILE_KEY/images?ids=1:2&format=svg" | jq -r '.images[]'
""",
    t,
)
t = "AAAA" + rnd(7, URLSAFE) + ":APA91b" + rnd(134, URLSAFE)
plant(
    "header/fcm-legacy-key",
    "auth-header-variants",
    f"""curl -X POST https://fcm.googleapis.com/fcm/send \\
  -H "Authorization: key={t}" \\
  -H "Content-Type: application/json" -d '{{"to": "/topics/all", "notification": {{"title": "hi"}}}}'""",
    t,
)
t = rnd(40)
plant(
    "header/httpie-authorization",
    "auth-header-variants",
    f"""http --check-status POST https://api.acme.io/v1/deploys Authorization:"Bearer {t}" ref=main
""",
    t,
)
p = pw_plain(16)
plant(
    "header/httpie-a",
    "tool-specific-password-option",
    f"""http -a admin:{p} GET https://registry.acme.io/v2/_catalog
""",
    p,
)
c = rnd(32, LOWNUM)
plant(
    "header/cookie-session",
    "auth-header-variants",
    f"""curl -s 'https://intranet.acme.io/admin/export.csv' \\
  -H 'Cookie: sessionid={c}; csrftoken={rnd(32)}' -o export.csv""",
    c,
)

# ---- URLs with a bare token as user, SAS signature, webhook urls -----------------------------
t = rhex(40)
plant(
    "url/github-legacy-hex-token-as-user",
    "url-token-without-colon",
    f"""git clone https://{t}@github.com/acme/deploy-configs.git /opt/deploy-configs
""",
    t,
)
t = rnd(32)
plant(
    "url/bitbucket-token-user",
    "url-token-without-colon",
    f"""git remote set-url origin "https://x-token-auth:{t}@bitbucket.org/acme/infra.git"
git push origin HEAD:release""",
    t,
)
sig = rb64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
plant(
    "url/azure-sas-sig",
    "sas-signature",
    f"""azcopy copy ./build "https://acmestore.blob.core.windows.net/web?sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2026-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig={sig}" --recursive
""",
    sig,
)
sig = rb64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
plant(
    "url/az-sas-token-flag-quoted",
    "sas-signature",
    f"""az storage blob upload-batch -d '$web' -s ./dist --account-name acmestore \\
  --sas-token "sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2026-06-30T00:00:00Z&spr=https&sig={sig}" """,
    sig,
)
hx = rhex(32)
plant(
    "webhook/teams",
    "webhook-url",
    f"""TEAMS_WEBHOOK="https://acme.webhook.office.com/webhookb2/{ruuid()}@{ruuid()}/IncomingWebhook/{hx}/{ruuid()}"
curl -H 'Content-Type: application/json' -d '{{"text": "Release v2.3.0 deployed"}}' "$TEAMS_WEBHOOK" """,
    hx,
)
hk = rnd(26, LOWNUM)
plant(
    "webhook/mattermost",
    "webhook-url",
    f"""curl -i -X POST -H 'Content-Type: application/json' \\
  -d '{{"text": "Nightly build failed"}}' https://chat.acme.io/hooks/{hk}""",
    hk,
)
k = rnd(22, URLSAFE)
plant(
    "webhook/ifttt",
    "webhook-url",
    f"""curl -s -X POST "https://maker.ifttt.com/trigger/backup_done/with/key/{k}" -d value1="$(hostname)"
""",
    k,
)

# ---- base64 plaintext creation ----------------------------------------------------------------
p = pw_plain(16)
plant(
    "b64/echo-n-user-pass-pipe-base64",
    "plaintext-before-base64",
    f"""AUTH=$(echo -n 'registry-bot:{p}' | base64)
curl -s -H "Authorization: Basic $AUTH" https://registry.acme.io/v2/_catalog""",
    p,
)
p = pw_plain(16)
plant(
    "b64/printf-basic-header-inline",
    "plaintext-before-base64",
    f"""curl -s -H "Authorization: Basic $(printf '%s' "admin:{p}" | base64 -w0)" http://sonar.local:9000/api/system/health
""",
    p,
)
dcj = base64.b64encode(
    json.dumps(
        {
            "auths": {
                "registry.acme.io": {
                    "auth": base64.b64encode(f"robot:{(p := pw_plain(20))}".encode()).decode()
                }
            }
        }
    ).encode()
).decode()
plant(
    "b64/dockerconfigjson-in-yaml",
    "base64-of-config",
    f"""cat <<EOF | kubectl apply -f -
apiVersion: v1
kind: Secret
metadata:
  name: regcred
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {dcj}
EOF""",
    dcj,
)
pem = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(rb64(48) for _ in range(6))
    + "\n-----END RSA PRIVATE KEY-----\n"
)
ckd = base64.b64encode(pem.encode()).decode()
plant(
    "b64/kubeconfig-client-key-data",
    "base64-of-config",
    f"""mkdir -p ~/.kube
cat > ~/.kube/config <<EOF
apiVersion: v1
clusters:
- cluster:
    server: https://10.20.0.10:6443
  name: prod
users:
- name: ci
  user:
    client-key-data: {ckd}
EOF""",
    ckd[:60],
    ckd[-60:],
)
sa = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-ci-204311",
        "private_key_id": rhex(40),
        "private_key": "-----BEGIN PRIVATE KEY-----\n" + rb64(96) + "\n-----END PRIVATE KEY-----\n",
        "client_email": "ci@acme-ci-204311.iam.gserviceaccount.com",
    }
)
sab = base64.b64encode(sa.encode()).decode()
plant(
    "b64/gcp-sa-json-base64-echo",
    "base64-of-config",
    f"""echo {sab} | base64 -d > /tmp/gcp-key.json
gcloud auth activate-service-account --key-file /tmp/gcp-key.json""",
    sab[100:180],
)
k = "base64:" + rb64(32)
plant(
    "env/laravel-app-key",
    "base64-prefixed-value",
    f"""cat > .env <<EOF
APP_NAME=Shop
APP_ENV=production
APP_KEY={k}
APP_DEBUG=false
EOF
php artisan config:cache""",
    k[7:],
)

# ---- multi-line arrays ------------------------------------------------------------------------
p = pw_plain(18)
plant(
    "array/assoc-multiline-password",
    "multiline-array",
    f"""declare -A DB=(
  [host]=db01.internal
  [user]=report
  [password]={p}
)
PGPASSWORD="${{DB[password]}}" psql -h "${{DB[host]}}" -U "${{DB[user]}}" reports""",
    p,
)
p = pw_plain(16)
plant(
    "array/creds-multiline",
    "multiline-array",
    f"""CREDS=(
  "svc_backup"
  "{p}"
)
smbclient //fs01/backup -U "${{CREDS[0]}}%${{CREDS[1]}}" -c 'put db.tar.gz'""",
    p,
)

# ---- misc config writes ----------------------------------------------------------------------
p = pw_plain(16)
plant(
    "file/pgpass-heredoc",
    "pgpass-heredoc",
    f"""cat > ~/.pgpass <<EOF
db01.internal:5432:*:replicator:{p}
EOF
chmod 0600 ~/.pgpass
pg_basebackup -h db01.internal -U replicator -D /var/lib/postgresql/16/main -P -R""",
    p,
)
p = pw_plain(20)
plant(
    "file/ansible-vault-pass-file",
    "secret-file-write",
    f"""echo '{p}' > ~/.vault_pass.txt
ansible-playbook -i inventory/prod site.yml --vault-password-file ~/.vault_pass.txt""",
    p,
)
p = pw_plain(16)
plant(
    "file/rsyncd-secrets",
    "secret-file-write",
    f"""echo "backup:{p}" > /etc/rsyncd.secrets
chmod 600 /etc/rsyncd.secrets""",
    p,
)
p = pw_plain(16)
plant(
    "file/wpa-supplicant-psk",
    "wifi-psk",
    f"""cat > /etc/wpa_supplicant/wpa_supplicant.conf <<EOF
ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev
network={{
    ssid="AcmeLab"
    psk="{p}"
}}
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "file/ldif-userPassword",
    "ldif-password",
    f"""ldapadd -x -D cn=admin,dc=acme,dc=io -y /root/.ldap_pw <<EOF
dn: uid=jenkins,ou=services,dc=acme,dc=io
objectClass: inetOrgPerson
cn: jenkins
sn: jenkins
userPassword: {p}
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "file/ldif-olcRootPW",
    "ldif-password",
    f"""ldapmodify -Y EXTERNAL -H ldapi:/// <<EOF
dn: olcDatabase={{1}}mdb,cn=config
changetype: modify
replace: olcRootPW
olcRootPW: {p}
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "file/dockerfile-env-space-form",
    "dockerfile-env-space",
    f"""cat > Dockerfile <<EOF
FROM postgres:15
ENV POSTGRES_USER app
ENV POSTGRES_PASSWORD {p}
COPY init.sql /docker-entrypoint-initdb.d/
EOF
docker build -t acme/db .""",
    p,
)
p = pw_plain(16)
plant(
    "file/read-i-default",
    "read-default",
    f"""read -r -e -p "Admin password: " -i "{p}" ADMIN_PASSWORD
./install.sh --admin-password "$ADMIN_PASSWORD" """,
    p,
)
p = pw_plain(16)
plant(
    "file/escaped-dollar-in-password",
    "value-with-escaped-dollar",
    f"""export DB_PASSWORD="{p[:7]}\\${p[7:]}"
./manage.py migrate""",
    p[7:],
)
k = rnd(50, ALNUM + "!@#%^&*(-_=+)")
plant(
    "py/django-settings-sed",
    "sed-password",
    f"""sed -i "s/^SECRET_KEY = .*/SECRET_KEY = '{k}'/" mysite/settings.py
python manage.py collectstatic --noinput""",
    k,
)

# ---- tokens in places only their format betrays --------------------------------------------------
t = "lin_api_" + rnd(40)
plant(
    "format/linear-positional",
    "token-format-uncovered",
    f"""./scripts/linear-release.sh ENG {t} v2.4.0
""",
    t,
)
t = "PMAK-" + rhex(24) + "-" + rhex(34)
plant(
    "format/postman-newman-arg",
    "token-format-uncovered",
    f"""newman run "https://api.getpostman.com/collections/1234-abcd?apikey={t}" -e ci.postman_environment.json
""",
    t,
)
t = "ATATT3xFfGF0" + rnd(180, URLSAFE)[:180] + "=" + rhex(8).upper()
plant(
    "format/atlassian-token-in-heredoc-json",
    "token-format-uncovered",
    f"""cat > ~/.jira.d/config.yml <<EOF
endpoint: https://acme.atlassian.net
user: ci@acme.io
password-source: pass
EOF
jira login --token {t}""",
    t,
)
t = "glsa_" + rnd(32) + "_" + rhex(8)
plant(
    "format/grafana-sa-token-bearer-var",
    "token-format-uncovered",
    f"""GRAFANA=https://grafana.acme.io
GF_AUTH={t}
curl -s -H "Authorization: Bearer $GF_AUTH" "$GRAFANA/api/dashboards/uid/k8s" > dash.json""",
    t,
)
t = "dp.st.prd." + rnd(40)
plant(
    "format/doppler-service-token",
    "token-format-uncovered",
    f"""doppler configure set token {t} --scope /app
doppler run -- ./start.sh""",
    t,
)

# ---- names / contexts near-misses ------------------------------------------------------------
p = pw_plain(16)
plant(
    "name/vault-kv-put-pass",
    "env-name-not-secret",
    f"""vault kv put secret/prod/rabbitmq user=app pass={p}
""",
    p,
)
p = pw_plain(18)
plant(
    "name/compose-env-upper-creds",
    "env-name-not-secret",
    f"""docker run -d --name minio -p 9000:9000 \\
  -e MINIO_ROOT_USER=admin \\
  -e MINIO_ROOT_PASSWORD={p} \\
  minio/minio server /data""",
    p,
)
p = pw_plain(16)
plant(
    "name/function-echo-password",
    "function-returned-secret",
    f"""get_db_password() {{
  echo "{p}"
}}
mysql -uroot -p"$(get_db_password)" -e 'SELECT 1'""",
    p,
)
t = rhex(40)
plant(
    "name/heroku-env-var-named-auth",
    "env-name-not-secret",
    f"""export GH_AUTH={t}
git clone "https://acme-bot:${{GH_AUTH}}@github.com/acme/site.git" """,
    t,
)
k = rb64(32)
plant(
    "name/signing-secret-key-name-descr",
    "env-name-not-secret",
    f"""export WEBHOOK_HMAC={k}
./bin/server --port 8080""",
    k,
)
p = pw_plain(16)
plant(
    "name/mail-smtp-pass-yaml-quoted-single",
    "yaml-unquoted-secret-key",
    f"""cat > /etc/msmtprc <<EOF
account default
host smtp.mailgun.org
port 587
auth on
user postmaster@mg.acme.io
password {p}
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "name/ssmtp-AuthPass",
    "yaml-unquoted-secret-key",
    f"""cat >> /etc/ssmtp/ssmtp.conf <<EOF
mailhub=smtp.gmail.com:587
AuthUser=alerts@acme.io
AuthPass={p}
UseSTARTTLS=YES
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "name/postfix-sasl-passwd",
    "secret-file-write",
    f"""echo "[smtp.sendgrid.net]:587 apikey:{p}" > /etc/postfix/sasl_passwd
postmap /etc/postfix/sasl_passwd
chmod 600 /etc/postfix/sasl_passwd*""",
    p,
)
p = pw_plain(16)
plant(
    "name/pure-ftpd-useradd-stdin",
    "stdin-to-password-tool",
    f"""(echo {p}; echo {p}) | pure-pw useradd deploy -u ftpuser -d /srv/ftp/deploy -m
""",
    p,
)
p = pw_plain(16)
plant(
    "name/proxy-url-in-env",
    "yaml-unquoted-secret-key",
    f"""cat >> /etc/apt/apt.conf.d/95proxy <<EOF
Acquire::http::Proxy "http://corp%5Cjsmith:{p}@proxy.acme.io:3128";
EOF""",
    p,
)

# ---- long-tail but common in GitHub scripts ------------------------------------------------------
p = pw_plain(16)
plant(
    "misc/curl-ftp-user-space",
    "tool-specific-password-option",
    f"""curl -T site.tar.gz --ftp-create-dirs -u "deploy:{p}" ftp://ftp.acme-hosting.net/backups/
""",
    p,
)
p = pw_plain(16)
plant(
    "misc/wget-ftp-password-space",
    "generic-long-flag-space",
    f"""wget --ftp-user=mirror --ftp-password {p} -r ftp://mirror.acme.io/pub/isos/
""",
    p,
)
p = pw_plain(16)
plant(
    "misc/pg-conninfo-in-env",
    "connection-string-pwd",
    f"""export PGCONN="host=db01 port=5432 dbname=app user=app_rw password={p} sslmode=require"
pgbench -c 10 -T 60 "$PGCONN" """,
    p,
)
p = pw_plain(16)
plant(
    "misc/docker-login-password-continuation",
    "continuation-value",
    f"""docker login registry.acme.io \\
  --username ci \\
  --password \\
  {p}""",
    p,
)
p = pw_plain(14)
plant(
    "misc/smbclient-password-positional",
    "tool-positional-password",
    f"""smbclient //fs01/deploy {p} -U svc_deploy -c 'put release.zip'
""",
    p,
)
p = pw_plain(16)
plant(
    "misc/mount-cifs-pass",
    "env-name-not-secret",
    f"""mount -t cifs //nas/media /mnt/media -o user=media,pass={p},vers=3.0,uid=1000
""",
    p,
)
p = pw_plain(16)
plant(
    "misc/rclone-config-create",
    "tool-positional-password",
    f"""rclone config create b2remote b2 account 004a1b2c3d4e5f60000000001 key {p}
rclone sync /srv/backups b2remote:acme-backups""",
    p,
)
p = pw_plain(16)
plant(
    "misc/keepalived-auth_pass",
    "yaml-unquoted-secret-key",
    f"""cat > /etc/keepalived/keepalived.conf <<EOF
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    authentication {{
        auth_type PASS
        auth_pass {p}
    }}
}}
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "misc/pgbouncer-userlist",
    "secret-file-write",
    f"""cat > /etc/pgbouncer/userlist.txt <<EOF
"app" "{p}"
"stats" "{pw_plain(16)}"
EOF""",
    p,
)
p = pw_plain(16)
plant(
    "misc/ppp-chap-secrets",
    "secret-file-write",
    f"""echo '"vpnuser" l2tpd "{p}" *' >> /etc/ppp/chap-secrets
""",
    p,
)
k = rb64(32)
plant(
    "misc/wireguard-privatekey-heredoc",
    "wireguard-key",
    f"""cat > /etc/wireguard/wg0.conf <<EOF
[Interface]
Address = 10.8.0.1/24
ListenPort = 51820
PrivateKey = {k}
EOF
systemctl enable --now wg-quick@wg0""",
    k,
)
k = rb64(32)
plant(
    "misc/wireguard-psk-heredoc",
    "wireguard-key",
    f"""cat >> /etc/wireguard/wg0.conf <<EOF
[Peer]
PublicKey = {rb64(32)}
PresharedKey = {k}
AllowedIPs = 10.8.0.2/32
EOF""",
    k,
)
p = pw_plain(16)
plant(
    "misc/ipsec-secrets-psk",
    "secret-file-write",
    f"""cat > /etc/ipsec.secrets <<EOF
%any %any : PSK "{p}"
EOF
ipsec restart""",
    p,
)
p = pw_plain(16)
plant(
    "misc/rsync-password-file-echo",
    "secret-file-write",
    f"""echo "{p}" > /etc/rsync.pass && chmod 600 /etc/rsync.pass
rsync -az --password-file=/etc/rsync.pass /srv/www/ backup@nas::www""",
    p,
)


p = pw_plain(16)
plant(
    "kw/mysql-wait-loop-while-not",
    "shell-keyword-before-command",
    f"""echo "waiting for mysql..."
while ! mysql -h db -uroot -p{p} -e "SELECT 1" >/dev/null 2>&1; do
  sleep 1
done""",
    p,
)
p = pw_plain(20)
plant(
    "kw/redis-cli-if",
    "shell-keyword-before-command",
    f"""if redis-cli -h cache01 -a {p} ping | grep -q PONG; then
  echo "redis up"
fi""",
    p,
)
p = pw_plain(16)
plant(
    "kw/mongosh-until",
    "shell-keyword-before-command",
    f"""until mongosh --host mongo -u root -p {p} --eval 'db.adminCommand("ping")' --quiet; do sleep 2; done
""",
    p,
)
p = pw_plain(16)
plant(
    "cont/curl-user-continuation",
    "curl-user-on-continuation-line",
    f"""curl -fsS \\
  --user deployer:{p} \\
  --upload-file target/app-1.4.0.war \\
  https://nexus.acme.io/repository/releases/com/acme/app/1.4.0/app-1.4.0.war""",
    p,
)

# =============================================================================================
# CHECKLIST tier: the brief's kinds of secret, in fresh contexts (not aimed at known gaps)
# =============================================================================================
TIER = "checklist"

ak, sk = "AKIA" + rnd(16, UPNUM), rnd(40, B64)
plant(
    "ck/aws-printf-credentials-args",
    "printf-args-config",
    f"""mkdir -p ~/.aws
printf '[default]\\naws_access_key_id=%s\\naws_secret_access_key=%s\\n' {ak} {sk} > ~/.aws/credentials
aws sts get-caller-identity""",
    ak,
    sk,
)
ak, sk = "AKIA" + rnd(16, UPNUM), rnd(40, B64)
plant(
    "ck/aws-env-prefix-command",
    "checklist-basic",
    f"""AWS_ACCESS_KEY_ID={ak} AWS_SECRET_ACCESS_KEY={sk} aws s3 cp ./site s3://acme-www/ --recursive
""",
    ak,
    sk,
)
ak, sk = "AKIA" + rnd(16, UPNUM), rnd(40, B64)
plant(
    "ck/aws-terraform-provider-heredoc",
    "checklist-basic",
    f"""cat > provider.tf <<EOF
provider "aws" {{
  region     = "eu-central-1"
  access_key = "{ak}"
  secret_key = "{sk}"
}}
EOF
terraform init""",
    ak,
    sk,
)
sk = rnd(40, B64)
plant(
    "ck/aws-boto3-python-c",
    "checklist-basic",
    f"""python3 -c "import boto3; s3 = boto3.client('s3', aws_access_key_id='AKIA{rnd(16, UPNUM)}', aws_secret_access_key='{sk}'); print(s3.list_buckets())"
""",
    sk,
)
pk_lines = [rb64(48) for _ in range(8)]
plant(
    "ck/gcp-sa-json-one-line-echo",
    "checklist-basic",
    'echo \'{"type": "service_account", "project_id": "acme-data-118", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
    + "\\n".join(pk_lines)
    + '\\n-----END PRIVATE KEY-----\\n", "client_email": "etl@acme-data-118.iam.gserviceaccount.com"}\' > /tmp/sa.json\n'
    "export GOOGLE_APPLICATION_CREDENTIALS=/tmp/sa.json",
    *pk_lines[1:3],
)
cs = rnd(3) + "8Q~" + rnd(31, ALNUM + "~._-")
plant(
    "ck/azure-client-secret-tfvars",
    "checklist-basic",
    f"""cat > terraform.tfvars <<EOF
subscription_id = "{ruuid()}"
client_id       = "{ruuid()}"
client_secret   = "{cs}"
tenant_id       = "{ruuid()}"
EOF""",
    cs,
)
cs = rnd(3) + "8Q~" + rnd(31, ALNUM + "~._-")
plant(
    "ck/azure-arm-client-secret-export",
    "checklist-basic",
    f"""export ARM_CLIENT_ID={ruuid()}
export ARM_CLIENT_SECRET='{cs}'
export ARM_TENANT_ID={ruuid()}
terraform plan -out tfplan""",
    cs,
)
k = rb64(64)
plant(
    "ck/azure-accountkey-connection-string-flag",
    "checklist-basic",
    f"""az storage container create --name backups \\
  --connection-string "DefaultEndpointsProtocol=https;AccountName=acmebk;AccountKey={k};EndpointSuffix=core.windows.net" """,
    k,
)
t = "sk_live_" + rnd(24)
plant(
    "ck/stripe-cli-api-key",
    "checklist-basic",
    f"""stripe listen --forward-to localhost:4242/webhook --api-key {t}
""",
    t,
)
t = "sk_live_" + rnd(99)
plant(
    "ck/stripe-env-heredoc",
    "checklist-basic",
    f"""cat > .env.production <<EOF
NODE_ENV=production
STRIPE_SECRET_KEY={t}
STRIPE_PUBLISHABLE_KEY=pk_live_{rnd(99)}
EOF""",
    t,
)
t = rhex(32)
plant(
    "ck/twilio-curl-u-var-user",
    "curl-user-on-continuation-line",
    f"""curl -X POST "https://api.twilio.com/2010-04-01/Accounts/$TWILIO_SID/Messages.json" \\
  --data-urlencode "To=$ONCALL" --data-urlencode "From=+15005550006" --data-urlencode "Body=disk full" \\
  -u "$TWILIO_SID:{t}" """,
    t,
)
t = rhex(32)
plant(
    "ck/twilio-auth-token-export",
    "checklist-basic",
    f"""export TWILIO_ACCOUNT_SID=AC{rhex(32)}
export TWILIO_AUTH_TOKEN={t}
node scripts/send-sms.js""",
    t,
)
t = f"SG.{rnd(22, URLSAFE)}.{rnd(43, URLSAFE)}"
plant(
    "ck/sendgrid-docker-e",
    "checklist-basic",
    f"""docker run -d --name mailer -e SENDGRID_API_KEY={t} -e FROM=noreply@acme.io acme/mailer:3
""",
    t,
)
t = "key-" + rhex(32)
plant(
    "ck/mailgun-swaks",
    "checklist-basic",
    f"""curl -s --user "api:{t}" https://api.eu.mailgun.net/v3/mg.acme.io/messages \\
  -F from='CI <ci@mg.acme.io>' -F to=ops@acme.io -F subject='nightly' -F text='ok'""",
    t,
)
t = "npm_" + rnd(36)
plant(
    "ck/npmrc-heredoc-scoped",
    "checklist-basic",
    f"""cat > .npmrc <<EOF
@acme:registry=https://npm.pkg.github.com
//npm.pkg.github.com/:_authToken={t}
always-auth=true
EOF
npm ci""",
    t,
)
up = base64.b64encode(f"ci-bot:{pw_plain(16)}".encode()).decode()
plant(
    "ck/npmrc-_auth-base64",
    "base64-userpass-after-equals",
    f"""cat > ~/.npmrc <<EOF
registry=https://nexus.acme.io/repository/npm-group/
_auth={up}
email=ci@acme.io
always-auth=true
EOF""",
    up,
)
t = "pypi-AgEIcHlwaS5vcmc" + rnd(70, URLSAFE)
plant(
    "ck/pip-conf-token-url",
    "checklist-basic",
    f"""mkdir -p ~/.config/pip
cat > ~/.config/pip/pip.conf <<EOF
[global]
extra-index-url = https://__token__:{t}@pypi.acme.io/simple/
EOF""",
    t,
)
t = "pypi-AgEIcHlwaS5vcmc" + rnd(70, URLSAFE)
plant(
    "ck/twine-env",
    "checklist-basic",
    f"""export TWINE_USERNAME=__token__
export TWINE_PASSWORD={t}
python -m twine upload dist/*""",
    t,
)
t = ruuid()
plant(
    "ck/heroku-netrc-one-line",
    "checklist-basic",
    f"""echo "machine git.heroku.com login deploy@acme.io password {t}" >> ~/.netrc
git push heroku main""",
    t,
)
t = "dop_v1_" + rhex(64)
plant(
    "ck/doctl-auth-init-t",
    "checklist-basic",
    f"""doctl auth init -t {t}
doctl kubernetes cluster kubeconfig save prod-ams3""",
    t,
)
t = "shpat_" + rhex(32)
plant(
    "ck/shopify-header",
    "checklist-basic",
    f"""curl -s "https://acme-store.myshopify.com/admin/api/2024-01/products.json?limit=250" \\
  -H "X-Shopify-Access-Token: {t}" | jq '.products | length'""",
    t,
)
t = f"{R.randint(10**9, 7 * 10**9)}:AA{rnd(33, URLSAFE)}"
plant(
    "ck/telegram-token-var-and-url",
    "checklist-basic",
    f"""BOT_TOKEN="{t}"
CHAT_ID="-1001234567890"
curl -s -X POST "https://api.telegram.org/bot${{BOT_TOKEN}}/sendMessage" -d chat_id="$CHAT_ID" -d text="backup ok" """,
    t,
)
t = "hf_" + rnd(34)
plant(
    "ck/hf-git-clone-url",
    "checklist-basic",
    f"""git lfs install
git clone https://ml-bot:{t}@huggingface.co/acme/intent-classifier models/intent""",
    t,
)
t = "sk-proj-" + rnd(48, URLSAFE) + "T3BlbkFJ" + rnd(48, URLSAFE)
plant(
    "ck/openai-env-prefix",
    "checklist-basic",
    f"""OPENAI_API_KEY={t} python3 scripts/summarize.py --input notes.md
""",
    t,
)
t = "sk-ant-api03-" + rnd(93, URLSAFE) + "AA"
plant(
    "ck/anthropic-docker-e",
    "checklist-basic",
    f"""docker run --rm -e ANTHROPIC_API_KEY="{t}" -v "$PWD:/work" acme/reviewer:latest review /work/diff.patch
""",
    t,
)
hdr = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
body = (
    base64.urlsafe_b64encode(json.dumps({"sub": "svc-deployer", "exp": 1893456000}).encode())
    .decode()
    .rstrip("=")
)
jwt = f"{hdr}.{body}.{rnd(86, URLSAFE)}"
plant(
    "ck/jwt-x-access-token-header",
    "checklist-basic",
    f"""curl -s https://deploy.acme.io/api/v1/releases -H "x-access-token: {jwt}" -d tag=v4.1.0
""",
    jwt.split(".", 1)[1],
)
jwt2 = f"{hdr}.{body}.{rnd(86, URLSAFE)}"
plant(
    "ck/jwt-cookie",
    "checklist-basic",
    f"""curl -s -b "access_token={jwt2}" https://grafana.acme.io/api/search?query=prod
""",
    jwt2.split(".", 1)[1],
)
t = "ghp_" + rnd(36)
plant(
    "ck/github-insteadof",
    "checklist-basic",
    f"""git config --global url."https://{t}:x-oauth-basic@github.com/".insteadOf "https://github.com/"
go mod download""",
    t,
)
p = pw_plain(16)
plant(
    "ck/pgpassword-crontab",
    "checklist-basic",
    f"""(crontab -l 2>/dev/null; echo "0 2 * * * PGPASSWORD={p} pg_dump -h db01 -U app app | gzip > /backups/app-\\$(date +\\%F).sql.gz") | crontab -
""",
    p,
)
p = pw(14)
plant(
    "ck/mysql_pwd-env-prefix",
    "checklist-basic",
    f"""MYSQL_PWD='{p}' mysql -uroot -h 127.0.0.1 -e "FLUSH PRIVILEGES; SHOW DATABASES;"
""",
    p,
)
p = pw_plain(18)
plant(
    "ck/docker-password-travis-env",
    "checklist-basic",
    f"""cat > .travis.yml <<EOF
env:
  global:
    - DOCKER_USERNAME=acmeci
    - DOCKER_PASSWORD={p}
script: make image
EOF""",
    p,
)
p = pw_plain(18)
plant(
    "ck/vault-kv-put-password",
    "checklist-basic",
    f"""vault kv put -mount=secret prod/postgres username=app password={p} host=db01.internal
""",
    p,
)
p = pw_plain(14)
plant(
    "ck/htpasswd-dockerfile-run",
    "checklist-basic",
    f"""cat > Dockerfile <<'EOF'
FROM nginx:1.25-alpine
RUN apk add --no-cache apache2-utils && htpasswd -Bbc /etc/nginx/.htpasswd metrics {p}
EOF""",
    p,
)
p = pw_plain(14)
plant(
    "ck/mysqladmin-p-status",
    "shell-keyword-before-command",
    f"""until mysqladmin -h 127.0.0.1 -uroot -p{p} ping --silent; do sleep 2; done
""",
    p,
)
p = pw_plain(14)
plant(
    "ck/mysqladmin-password-keyword",
    "checklist-basic",
    f"""mysqladmin -u root password '{p}'
""",
    p,
)
p = pw_plain(16)
plant(
    "ck/openssl-genrsa-passout",
    "checklist-basic",
    f"""openssl genrsa -aes256 -passout pass:{p} -out ca.key 4096
openssl req -x509 -new -key ca.key -passin pass:{p} -days 3650 -subj "/CN=Acme Root CA" -out ca.crt""",
    p,
)
p = pw_plain(16)
plant(
    "ck/keytool-genkeypair",
    "checklist-basic",
    f"""keytool -genkeypair -alias upload -keyalg RSA -keysize 2048 -validity 10000 \\
  -keystore android/app/upload.jks -storepass {p} -keypass {p} \\
  -dname "CN=Acme, OU=Mobile, O=Acme, L=Berlin, C=DE" """,
    p,
)
p = pw_plain(12)
plant(
    "ck/echo-sudo-S",
    "checklist-basic",
    f"""echo '{p}' | sudo -S systemctl restart nginx
""",
    p,
)
p = pw_plain(16)
plant(
    "ck/rabbitmqadmin-password-eq",
    "checklist-basic",
    f"""rabbitmqadmin --host=mq01 --username=admin --password={p} list queues name messages
""",
    p,
)
p = pw(16)
plant(
    "ck/sqlcmd-P",
    "checklist-basic",
    f"""/opt/mssql-tools18/bin/sqlcmd -S localhost -U SA -P '{p}' -C -Q "SELECT @@VERSION"
""",
    p,
)
p = pw_plain(12)
plant(
    "ck/ipmitool-P",
    "shell-keyword-before-command",
    f"""for h in 10.0.9.11 10.0.9.12; do ipmitool -I lanplus -H "$h" -U ADMIN -P {p} chassis power status; done
""",
    p,
)
p1, p2 = pw_plain(20), rnd(50)
plant(
    "ck/dotenv-heredoc-several",
    "checklist-basic",
    f"""cat > /srv/app/.env <<EOF
APP_ENV=production
DB_HOST=db01.internal
DB_USERNAME=app
DB_PASSWORD={p1}
JWT_SECRET={p2}
EOF""",
    p1,
    p2,
)
p = pw_plain(16)
plant(
    "ck/my-cnf-heredoc",
    "checklist-basic",
    f"""cat > /root/.my.cnf <<EOF
[client]
user=root
password={p}
EOF
chmod 600 /root/.my.cnf""",
    p,
)
p = pw_plain(20)
plant(
    "ck/postgres-url-heroku-config-set",
    "checklist-basic",
    f"""heroku config:set DATABASE_URL="postgres://u9a8b7c6:{p}@ec2-52-1-2-3.compute-1.amazonaws.com:5432/d1e2f3" -a acme-api
""",
    p,
)
p = pw_plain(20)
plant(
    "ck/mongodb-srv-env-file",
    "checklist-basic",
    f"""echo "MONGO_URI=mongodb+srv://api_rw:{p}@cluster0.x1y2z.mongodb.net/prod?retryWrites=true&w=majority" >> .env
""",
    p,
)
p = pw_plain(20)
plant(
    "ck/amqp-celery-broker",
    "checklist-basic",
    f"""celery -A tasks worker --loglevel=info --broker amqp://worker:{p}@mq01.internal:5672/prod
""",
    p,
)
p = pw_plain(32)
plant(
    "ck/rediss-upstash",
    "checklist-basic",
    f"""export REDIS_URL="rediss://default:{p}@eu1-fond-lion-31337.upstash.io:6379"
npm run worker""",
    p,
)
p = pw_plain(16)
plant(
    "ck/jdbc-mysql-flyway",
    "checklist-basic",
    f"""flyway -url="jdbc:mysql://db01:3306/shop?user=flyway&password={p}&useSSL=false" -locations=filesystem:sql migrate
""",
    p,
)
w = f"T{rnd(8, UPNUM)}/B{rnd(10, UPNUM)}/{rnd(24)}"
plant(
    "ck/slack-webhook-function",
    "checklist-basic",
    f"""notify() {{
  curl -s -X POST -H 'Content-type: application/json' \\
    --data "{{\\"text\\": \\"$1\\"}}" https://hooks.slack.com/services/{w}
}}
notify "deploy of $VERSION finished" """,
    w.split("/")[-1],
)
t = f"{R.randint(10**17, 10**18)}/{rnd(68, URLSAFE)}"
plant(
    "ck/discord-webhook-var",
    "checklist-basic",
    f"""DISCORD_WEBHOOK_URL=https://discordapp.com/api/webhooks/{t}
curl -H "Content-Type: application/json" -X POST -d '{{"username": "ci", "content": "build green"}}' "$DISCORD_WEBHOOK_URL" """,
    t.split("/")[1],
)
p = pw_plain(14)
plant(
    "ck/sshpass-in-rsync-e",
    "checklist-basic",
    f"""rsync -avz --delete -e "sshpass -p '{p}' ssh -o StrictHostKeyChecking=no" ./public/ www@10.0.4.20:/var/www/site/
""",
    p,
)
p = pw_plain(14)
plant(
    "ck/read-p-default-in-prompt",
    "read-default",
    f"""read -r -p "Database password [{p}]: " DB_PASS
DB_PASS=${{DB_PASS:-{p}}}""",
    p,
)
p = pw_plain(16)
plant(
    "ck/args-array-password",
    "checklist-basic",
    f"""LOGIN_ARGS=(--username admin --password "{p}" --insecure)
argocd login argocd.internal "${{LOGIN_ARGS[@]}}" """,
    p,
)
t = "glpat-" + rnd(20, URLSAFE)
plant(
    "ck/gitlab-oauth2-url-submodule",
    "checklist-basic",
    f"""git config --file .gitmodules submodule.libs/core.url https://oauth2:{t}@gitlab.acme.io/platform/core.git
git submodule sync && git submodule update --init""",
    t,
)
cs = rnd(40)
plant(
    "ck/oauth-client-credentials-form",
    "checklist-basic",
    f"""ACCESS_TOKEN=$(curl -s -X POST https://auth.acme.io/oauth2/token \\
  -d "grant_type=client_credentials&client_id=ci-runner&client_secret={cs}&scope=deploy" | jq -r .access_token)""",
    cs,
)
p = pw_plain(20)
plant(
    "ck/kubectl-from-literal-aws",
    "checklist-basic",
    f"""kubectl -n backup create secret generic s3-creds \\
  --from-literal=AWS_ACCESS_KEY_ID=AKIA{rnd(16, UPNUM)} \\
  --from-literal=AWS_SECRET_ACCESS_KEY={p}""",
    p,
)
t = rnd(32)
plant(
    "ck/helm-set-string-apikey",
    "checklist-basic",
    f"""helm upgrade --install agent datadog/datadog -n monitoring --set-string datadog.apiKey={t} --set datadog.site=datadoghq.eu
""",
    t,
)
p = pw_plain(14)
plant(
    "ck/ansible-password-hash-jinja",
    "jinja-literal",
    f"""ansible all -i hosts -b -m user -a "name=deploy password={{{{ '{p}' | password_hash('sha512') }}}}"
""",
    p,
)
t = rnd(52, "abcdefghijklmnopqrstuvwxyz234567")
plant(
    "ck/azure-devops-pat-stdin",
    "stdin-to-secret-tool",
    f"""echo {t} | az devops login --organization https://dev.azure.com/acme
az pipelines run --name nightly""",
    t,
)
t = rnd(52, "abcdefghijklmnopqrstuvwxyz234567")
plant(
    "ck/azure-devops-pat-git-url",
    "checklist-basic",
    f"""git clone https://build:{t}@dev.azure.com/acme/platform/_git/infra
""",
    t,
)
pk = [rb64(48) for _ in range(6)]
plant(
    "ck/pgp-private-key-import",
    "checklist-basic",
    "gpg --batch --import <<'EOF'\n-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
    + "\n".join(pk)
    + "\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\nEOF",
    *pk[1:4],
)
t = "sntrys_" + rnd(60)
plant(
    "ck/sentry-auth-token",
    "checklist-basic",
    f"""export SENTRY_AUTH_TOKEN={t}
sentry-cli releases new "$VERSION" && sentry-cli releases finalize "$VERSION" """,
    t,
)
t = rhex(64)
plant(
    "ck/secret-key-base-rails-docker",
    "checklist-basic",
    f"""docker run -d --name web -e RAILS_ENV=production -e SECRET_KEY_BASE={t} -p 3000:3000 acme/web
""",
    t,
)


# =============================================================================================
# BENIGN look-alikes: must come back unchanged
# =============================================================================================
benign(
    "docker login password-stdin from secret file",
    'docker login -u "$REGISTRY_USER" --password-stdin registry.acme.io < /run/secrets/registry_password',
)
benign("required env", ': "${DB_PASSWORD:?DB_PASSWORD must be set}"\n: "${API_TOKEN:?}"')
benign("token from file", 'TOKEN=$(cat /run/secrets/gh_token)\nexport GITHUB_TOKEN="$TOKEN"')
benign("angle placeholder", 'API_KEY="<your-api-key>"\nSLACK_WEBHOOK="<your-slack-webhook-url>"')
benign(
    "words placeholder", "export OPENAI_API_KEY=your_api_key_here\nexport STRIPE_SECRET_KEY=your_secret_key"
)
benign("xxxx", "GITHUB_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nDB_PASSWORD='********'")
benign(
    "sha256 check",
    "curl -fsSLO https://get.helm.sh/helm-v3.14.2-linux-amd64.tar.gz\n"
    'echo "0885a501d586c1e949e9b113bf3fb3290b0bbf74db9444a1d8c2723a143006e5  helm-v3.14.2-linux-amd64.tar.gz" | sha256sum -c -',
)
benign(
    "sha256 variable",
    "KUBECTL_SHA256=a2de71807eaea86b8bc3e8c3d9bc29b3ba2dd38d1d3d27f8a6d0e1f55dc9c6b4\n"
    'echo "${KUBECTL_SHA256}  kubectl" | sha256sum --check',
)
benign(
    "git checkout commit",
    "git fetch origin\ngit checkout 9fceb02d0ae598e95dc970b74767f19372d61af8\ngit submodule update --init",
)
benign(
    "uuid ids",
    'SUBSCRIPTION_ID=8f14e45f-ceea-467f-a0d3-c5e2b3a1d9f0\naz account set --subscription "$SUBSCRIPTION_ID"',
)
benign(
    "tenant id flag",
    "az login --identity\naz aks get-credentials -g rg-prod -n aks-prod --subscription 3c9a7f62-91e4-4b0e-8d2c-5a1f7e3b6d40",
)
benign(
    "password-stdin echo var",
    'echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"',
)
benign("password prompt", 'read -r -s -p "Enter MySQL root password: " MYSQL_ROOT_PASSWORD\necho')
benign(
    "usage text",
    'usage() {\n  echo "Usage: $0 --token <TOKEN> --password <PASSWORD> [--api-key KEY]"\n  exit 1\n}',
)
benign("base64 non-credential", 'echo "aGVsbG8gZnJvbSB0aGUgYnVpbGQgc2VydmVyCg==" | base64 -d')
benign(
    "long var names",
    "PASSWORD_MIN_LENGTH=12\nTOKEN_TTL_SECONDS=3600\nSECRET_NAME=db-credentials\nAPI_KEY_HEADER=X-Api-Key",
)
benign("version strings", 'NODE_VERSION=20.11.1\nTERRAFORM_VERSION=1.7.4\nexport PYTHON_VERSION="3.12.2"')
benign(
    "gpg recv keys",
    "gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys 4ED778F539E3634C779C87C6D7062848A1AB005C",
)
benign(
    "ssh pub key",
    "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3b8sVb9Y0nq7e1K4xZz2m9yQd6Jt5aL0cX2p4rV1s ci@build01' >> ~/.ssh/authorized_keys",
)
benign("secret read back", "kubectl get secret db-creds -n prod -o jsonpath='{.data.password}' | base64 -d")
benign(
    "aws get secret",
    "aws secretsmanager get-secret-value --secret-id prod/db --query SecretString --output text | jq -r .password",
)
benign("vault get field", "DB_PASSWORD=$(vault kv get -field=password secret/prod/db)\nexport DB_PASSWORD")
benign("mysql -p prompt db", "mysql -u root -p wordpress < backup.sql")
benign(
    "mysql -p expansion",
    'mysqldump -u "$DB_USER" -p"$DB_PASS" --single-transaction "$DB_NAME" | gzip > dump.sql.gz',
)
benign(
    "port flags",
    "ssh -p 2222 deploy@10.0.0.4 'uptime'\ndocker run -d -p 8080:80 nginx:1.25\nmkdir -p /opt/app",
)
benign("openssl rand", "openssl rand -base64 32 > /etc/app/secret.key\nPASSWORD=$(openssl rand -hex 16)")
benign("htpasswd prompt", "htpasswd -c /etc/nginx/.htpasswd admin")
benign(
    "curl -u vars",
    'curl -fsS -u "$NEXUS_USER:$NEXUS_PASS" -T app.jar "$NEXUS_URL/repository/releases/app.jar"',
)
benign(
    "auth header var",
    'curl -H "Authorization: Bearer ${API_TOKEN}" -H "Accept: application/json" https://api.acme.io/v1/me',
)
benign(
    "git clone plain", "git clone https://github.com/acme/tools.git\ngit clone git@github.com:acme/infra.git"
)
benign(
    "image digest",
    "docker pull nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac",
)
benign(
    "tf var expansion",
    'terraform apply -auto-approve -var "db_password=${TF_DB_PASSWORD}" -var "region=eu-west-1"',
)
benign(
    "helm existing secret",
    "helm upgrade --install pg bitnami/postgresql --set auth.existingSecret=pg-auth --set primary.persistence.size=20Gi",
)
benign(
    "redis url no creds",
    "export REDIS_URL=redis://redis:6379/0\nexport DATABASE_URL=postgres://app:${DB_PASS}@db:5432/app",
)
benign("jdbc no creds", 'JDBC_URL="jdbc:postgresql://localhost:5432/app?sslmode=disable"')
benign(
    "k8s secretName",
    "cat <<EOF > ingress-tls.yaml\nspec:\n  tls:\n    - hosts: [app.acme.io]\n      secretName: app-tls\nEOF",
)
benign(
    "token-file flags",
    "kubectl --token-file=/var/run/secrets/kubernetes.io/serviceaccount/token get pods\nvault login -method=token token=-",
)
benign(
    "python secrets gen",
    "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')\nexport SECRET_KEY",
)
benign("sed template with var", 'sed -i "s/__DB_PASSWORD__/${DB_PASSWORD}/g" /etc/app/config.php')
benign("env example", "cat > .env.example <<'EOF'\nDB_PASSWORD=\nAPI_KEY=changeme\nSTRIPE_KEY=\nEOF")
benign("prose", 'echo "Password changed successfully for user $USER"\necho "Token refreshed."')
benign("passwd lock", "passwd -l root\npasswd --expire deploy\nuseradd -m -s /bin/bash deploy")
benign(
    "sudoers", 'echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy\nchmod 440 /etc/sudoers.d/deploy'
)
benign(
    "sshd password auth",
    "sed -i 's/^#\\?PasswordAuthentication .*/PasswordAuthentication no/' /etc/ssh/sshd_config\nsystemctl reload sshd",
)
benign("empty passphrase keygen", 'ssh-keygen -t ed25519 -N "" -f ~/.ssh/id_ed25519 -C "ci@acme"')
benign(
    "openssl env pass",
    "openssl pkcs12 -export -in tls.crt -inkey tls.key -out tls.p12 -passout env:P12_PASSWORD",
)
benign(
    "keytool var pass",
    'keytool -importkeystore -srckeystore tls.p12 -srcstoretype PKCS12 -srcstorepass "$P12_PASSWORD" -destkeystore app.jks -deststorepass "$JKS_PASSWORD"',
)
benign(
    "github actions expr",
    'git push "https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/${GITHUB_REPOSITORY}.git" HEAD:gh-pages',
)
benign(
    "docker env passthrough",
    "docker run --rm -e POSTGRES_PASSWORD -e API_TOKEN -e AWS_SECRET_ACCESS_KEY acme/migrate:latest",
)
benign(
    "git sha var", 'GIT_SHA=$(git rev-parse HEAD)\nIMAGE_TAG=sha-3e1f0c9b7d2a\necho "building ${GIT_SHA:0:7}"'
)
benign(
    "archive by commit",
    "curl -L -o src.tar.gz https://github.com/acme/lib/archive/8f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e.tar.gz",
)
benign(
    "kubeconfig ca data",
    "cat > ca.yaml <<EOF\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKY201bGRHVnpNQjRYRFRJek1ERXdNVEF3TURBd01Gb1hEVE16TURFd01UQXdNREF3TUZvd0ZURVRNQkVHQTFVRQo=\n    server: https://10.0.0.1:6443\nEOF",
)
benign(
    "kubectl from-file relative",
    "kubectl create secret generic app-secrets --from-file=password=./secrets/db_password.txt --from-file=api-key=./secrets/api_key.txt",
)
benign("check empty token", '[[ -z "${GITHUB_TOKEN:-}" ]] && { echo "GITHUB_TOKEN is not set" >&2; exit 1; }')
benign(
    "password length check", 'if [ ${#PASSWORD} -lt 12 ]; then\n  echo "password too short" >&2\n  exit 1\nfi'
)
benign(
    "npm integrity",
    'echo "sha512-Y7q8Zk0Yt1rG3nJ5v0m9yV2bXr4cD6eF8gH0iJ2kL4mN6oP8qR0sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2oP4q==" > .integrity',
)
benign(
    "pip hash",
    "pip install --require-hashes -r requirements.txt\npip download requests==2.31.0 --no-deps && pip hash requests-2.31.0-py3-none-any.whl",
)
benign(
    "aws instance ids",
    "aws ec2 stop-instances --instance-ids i-0a1b2c3d4e5f67890 --region us-east-1\naws ec2 describe-images --image-ids ami-0c55b159cbfafe1f0",
)
benign(
    "getopts password case",
    'while [[ $# -gt 0 ]]; do\n  case "$1" in\n    -p|--password) PASSWORD="$2"; shift 2 ;;\n    -t|--token) TOKEN="$2"; shift 2 ;;\n  esac\ndone',
)
benign(
    "mongo createUser var",
    "mongosh admin --eval \"db.createUser({user: 'app', pwd: passwordPrompt(), roles: ['readWrite']})\"",
)
benign("pgpass from env", 'echo "${PGHOST}:5432:*:${PGUSER}:${PGPASSWORD}" > ~/.pgpass\nchmod 600 ~/.pgpass')
benign(
    "wp sample config cp",
    'cp wp-config-sample.php wp-config.php\nsed -i "s/password_here/${WP_DB_PASSWORD}/" wp-config.php',
)
benign(
    "debconf var",
    'echo "mysql-server mysql-server/root_password password $MYSQL_ROOT_PASSWORD" | debconf-set-selections',
)
benign("chpasswd var", 'echo "${ADMIN_USER}:${ADMIN_PASS}" | chpasswd')
benign(
    "sonar token var", 'mvn sonar:sonar -Dsonar.token="$SONAR_TOKEN" -Dsonar.host.url=https://sonarcloud.io'
)
benign(
    "compose env var ref",
    "cat > docker-compose.yml <<'EOF'\nservices:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n      POSTGRES_DB: app\nEOF",
)
benign(
    "maven settings var",
    "cat > ~/.m2/settings.xml <<'EOF'\n<server>\n  <id>ossrh</id>\n  <username>${env.OSSRH_USER}</username>\n  <password>${env.OSSRH_PASSWORD}</password>\n</server>\nEOF",
)
benign("wp define getenv", "define( 'DB_PASSWORD', getenv('WORDPRESS_DB_PASSWORD') );")
benign("requirepass var", 'redis-server --appendonly yes --requirepass "$REDIS_PASSWORD"')
benign(
    "user agent and request id",
    'curl -H "User-Agent: acme-ci/2.3.1" -H "X-Request-Id: 5b1e9c7a-3f2d-4e8b-9a6c-0d1f2e3a4b5c" https://api.acme.io/health',
)
benign(
    "checksum file key name",
    "CHECKSUM_KEY=sha256\nKEY_SERVER=hkps://keyserver.ubuntu.com\nSORT_KEY=created_at",
)


# =============================================================================================
# running
# =============================================================================================


def _looks_secretish(window: str, secret_has_digit: bool) -> bool:
    return any(c.isdigit() for c in window) or not secret_has_digit


def surviving(script: str, out: str, secret: str) -> str | None:
    """The secret, or an 8-char window of it, that is still in `out` (None when gone)."""
    if len(secret) < 8:
        return secret if secret in out else None
    if secret in out:
        return secret
    context = script.replace(secret, "\0")
    has_digit = any(c.isdigit() for c in secret)
    for i in range(len(secret) - 7):
        w = secret[i : i + 8]
        if w in out and w not in context and _looks_secretish(w, has_digit) and "REDACTED" not in w:
            return w
    return None


def run() -> dict:
    misses, fps = [], []
    tiers: dict[str, list[int]] = {}
    for name, family, script, secrets, tier in PLANTED:
        out = scrub(script)
        left = [(s, w) for s in secrets if (w := surviving(script, out.text, s)) is not None]
        t = tiers.setdefault(tier, [0, 0])
        t[1] += 1
        if left:
            misses.append(
                {
                    "name": name,
                    "family": family,
                    "tier": tier,
                    "input": script,
                    "output": out.text,
                    "left": left,
                    "counts": dict(out.counts),
                }
            )
        else:
            t[0] += 1
    for name, script in BENIGN:
        out = scrub(script)
        if out.text != script:
            fps.append({"name": name, "input": script, "output": out.text, "counts": dict(out.counts)})
    return {
        "planted": len(PLANTED),
        "caught": sum(t[0] for t in tiers.values()),
        "tiers": tiers,
        "benign": len(BENIGN),
        "false_positives": len(fps),
        "misses": misses,
        "fps": fps,
    }


def summary(res: dict) -> str:
    tiers = ", ".join(f"{k}: {c}/{n}" for k, (c, n) in res["tiers"].items())
    return (
        f"caught {res['caught']}/{res['planted']} planted ({tiers}); "
        f"false positives {res['false_positives']}/{res['benign']} benign"
    )


def main() -> None:
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    args = sys.argv[1:]
    res = run()
    print(summary(res))
    quiet = "--quiet" in args
    by_family: dict[str, list[dict]] = {}
    for m in res["misses"]:
        by_family.setdefault(m["family"], []).append(m)
    for fam, ms in sorted(by_family.items(), key=lambda kv: -len(kv[1])):
        print(f"\nMISS family {fam} ({len(ms)})")
        for m in ms:
            print(f"  - [{m['tier']}] {m['name']}  surviving: {[w[:40] for _, w in m['left']]}")
            if not quiet:
                for ln in m["output"].splitlines():
                    if any(w in ln for _, w in m["left"]):
                        print(f"      | {ln[:220]}")
    for f in res["fps"]:
        print(f"\nFALSE POSITIVE {f['name']} counts={f['counts']}")
        if not quiet:
            for a, b in zip(f["input"].splitlines(), f["output"].splitlines(), strict=False):
                if a != b:
                    print(f"      - {a}\n      + {b}")
    if "--json" in args:
        with open(args[args.index("--json") + 1], "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
