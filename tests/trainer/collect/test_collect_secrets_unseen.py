"""Shapes of credentials an unseen evaluation plants that the scrubber missed, and the code it must keep.

Found by red-teaming the scrubber with snippets written for the purpose (none
from bench/secret_recall.py), each rule written for the family, not the
snippet: a shell keyword before the command, options named for a secret,
Java properties, YAML maps, vendors' headers, here-strings, XML, PHP,
debconf, connection strings, SAS signatures, more tools and token formats.
The kept lines include the real-corpus false positives each rule first made
(bench/scrub_corpus.py). Every secret is made up.
"""

from __future__ import annotations

import pytest

from bashcoder.trainer.collect.secrets import scrub

PW = "Kq7vT2mX9pLw"  # a made-up random-looking password
HEX = "9f2c" + "4e8a1b7d3c6f0e5a2b9d8c7f1e3a4b6d"


def scrubbed(text: str) -> str:
    out = scrub(text).text
    assert scrub(out).text == out, "a second scrub changed the text"
    return out


@pytest.mark.parametrize(
    "snippet",
    [
        # a reserved word before the command
        f"until mysqladmin -h db -uroot -p{PW} ping --silent; do sleep 2; done",
        f'for h in a b; do ipmitool -I lanplus -H "$h" -U ADMIN -P {PW} chassis power status; done',
        f"if ! redis-cli -a {PW} ping; then exit 1; fi",
        # options named for a secret, any name, = or space, one dash or two
        f"aws rds create-db-instance --db-instance-identifier x --master-user-password {PW}",
        f"deploy --github-token {PW}A1b2C3d4 --repo acme/site",
        f"./configure-agent --secret_key={PW}",
        f"consul acl token list -token={PW}",
        f"nuget push pkg.nupkg -Source feed -ApiKey {PW}",
        # Java properties and flags
        f"cat > application.properties <<EOF\nspring.datasource.password={PW}\nEOF",
        f"mvn sonar:sonar -Dsonar.token={HEX}",
        f'JAVA_OPTS="-Djavax.net.ssl.keyStorePassword={PW} -Xmx1g"',
        f"./gradlew assembleRelease -Pandroid.injected.signing.store.password={PW}",
        # YAML written by the script
        f"cat > docker-compose.yml <<EOF\nservices:\n  db:\n    environment:\n      MYSQL_ROOT_PASSWORD: {PW}\nEOF",
        f'echo "api_key: {HEX}" | sudo tee /etc/datadog-agent/datadog.yaml',
        # headers: any Authorization scheme, vendors' own token headers
        f'curl -H "Authorization: SSWS {PW}X8y7Z6w5V4u3" https://acme.okta.com/api/v1/users',
        f'curl -H "Circle-Token: {HEX}" https://circleci.com/api/v2/me',
        f'curl -H "X-Auth-Key: {HEX}" https://api.cloudflare.com/client/v4/zones',
        # curl -u on a line a backslash continues onto
        f'curl -X POST https://api.example.net/v1/send \\\n  -d "to=x" \\\n  -u "$ACCOUNT_SID:{HEX}"',
        # here-strings and stdin into password readers
        f'sudo -S apt-get update <<< "{PW}"',
        f'chpasswd <<< "deploy:{PW}"',
        f'echo -e "deploy:{PW}" | chpasswd',
        f"echo {PW} | vncpasswd -f > ~/.vnc/passwd",
        f"echo {HEX} | az devops login --organization https://dev.azure.com/acme",
        f"printf '%s' {PW} | docker secret create db_password -",
        # tools and their password options or positions
        f"oc login https://api.cluster:6443 -u admin -p {PW}",
        f"helm registry login registry.example.net -u bot -p {PW}",
        f"twine upload -u __token__ -p {PW} dist/*",
        f"plink -ssh admin@host -pw {PW} uptime",
        f"openssl passwd -6 -salt abcdefgh {PW}",
        f"mc alias set minio http://minio:9000 admin {PW}",
        f"grafana-cli admin reset-admin-password {PW}",
        f"gh secret set DEPLOY_KEY --body {PW}",
        f"http -a admin:{PW} POST https://api.example.net/items",
        f"useradd -m -p \"$(openssl passwd -1 '{PW}')\" jenkins",
        f'usermod --password "$(mkpasswd -m sha-512 {PW})" pi',
        f"x11vnc -storepasswd {PW} /etc/x11vnc.pass",
        f"neo4j-admin dbms set-initial-password {PW}",
        f"ansible-vault encrypt_string '{PW}' --name 'db_password' >> vault.yml",
        f"vault login {PW}",
        f"crudini --set /etc/keystone/keystone.conf DEFAULT admin_token {HEX}",
        f"poetry config http-basic.acme deployer {PW}",
        f"composer config -g http-basic.repo.magento.com {HEX[:32]} {PW}",
        f"npm config set '//npm.pkg.github.com/:_authToken' '{PW}'",
        f"smbclient //fs01/deploy {PW} -U svc_deploy -c 'put release.zip'",
        # headers and URLs
        f'http POST https://api.example.net/deploys Authorization:"Bearer {PW}X8y7Z6w5" ref=main',
        f"curl -H 'Cookie: sessionid={HEX}; theme=dark' https://app.example.net/export",
        f"git clone https://{HEX}@github.com/acme/deploy-configs.git",
        f"java -jar jenkins-cli.jar -s http://ci:8080/ -auth admin:{PW} install-plugin git",
        # stdin, base64 input, PSKs, templates, arrays, read defaults
        f"(echo {PW}; echo {PW}) | smbpasswd -s -a share",
        f"AUTH=$(echo -n 'registry-bot:{PW}' | base64)",
        f"echo '%any %any : PSK \"{PW}\"' >> /etc/ipsec.secrets",
        f'cat > wpa.conf <<EOF\nnetwork={{\n    psk="{PW}"\n}}\nEOF',
        f'echo "backup:{PW}" > /etc/rsyncd.secrets',
        f"ansible all -m user -a \"name=deploy password={{{{ '{PW}' | password_hash('sha512') }}}}\"",
        f"mongo admin --eval \"db.changeUserPassword('reporting', '{PW}')\"",
        f"declare -A db=(\n  [host]=db01\n  [password]={PW}\n)",
        f'read -r -p "Database password [{PW}]: " DB_PASS',
        f'read -r -e -p "Admin password: " -i "{PW}" ADMIN_PASSWORD',
        f'sed -i "s/password_here/{PW}/" wp-config.php',
        f'debconf-set-selections <<< "phpmyadmin phpmyadmin/app-password-confirm password {PW}"',
        f"cat > ~/.pgpass <<EOF\ndb01.internal:5432:*:replicator:{PW}\nEOF",
        f'export DB_PASSWORD="Dw6\\${PW}"',
        f"APP_KEY=base64:{PW}{PW}abc=",
        "curl -d '{}' https://chat.example.net/hooks/" + "u1imyqjt2ufklyu3067m50a9ag",
        # names that hold a credential only with a token-like value; base64 documents; expect
        f"docker run -e NEO4J_AUTH=neo4j/{PW}x7Y neo4j:5",
        f"export GH_AUTH={HEX}",
        f'expect <<EOF\nspawn passwd deploy\nexpect "New password:"\nsend "{PW}\\r"\nEOF',
        # across lines: an array's elements, an assignment's value after a backslash-newline
        f"PASSWORDS=(\n  '{PW}'\n  \"$FALLBACK\"\n)",
        f"export AWS_SECRET_ACCESS_KEY=\\\n{PW}/x+Yz",
        f'echo "usage: $0 [--password {PW}]"',
        f'curl -s -d "{{\\"username\\":\\"admin\\",\\"password\\":\\"{PW}\\"}}" https://api.example.net/login',
        f"aws rds create-db-instance --db-instance-identifier db \\\n  --master-user-password \\\n  {PW}",
        f"chpasswd <<EOF\nroot:{PW}\ndeploy:{PW}x\nEOF",
        f"cat > keepalived.conf <<EOF\n    authentication {{\n        auth_pass {PW}\n    }}\nEOF",
        f"printf '[default]\\naws_access_key_id=%s\\naws_secret_access_key=%s\\n' AKID {PW}/x+Yz > ~/.aws/credentials",
        # redis
        f'echo "requirepass {PW}" >> /etc/redis/redis.conf',
        f"redis-server --requirepass {PW}",
        # mongo, XML, PHP, SQL, debconf, connection strings
        f'mongosh admin --eval \'db.createUser({{user: "app", pwd: "{PW}", roles: []}})\'',
        f"cat > settings.xml <<EOF\n<server><id>x</id><password>{PW}</password></server>\nEOF",
        f'<add key="ClearTextPassword" value="{PW}" />',
        f"define('DB_PASSWORD', '{PW}');",
        f"psql -c \"ALTER USER postgres PASSWORD '{PW}'\"",
        f'sqlplus / as sysdba <<< "CREATE USER app IDENTIFIED BY {PW};"',
        f'echo "mysql-server mysql-server/root_password password {PW}" | debconf-set-selections',
        f'CONN="Driver={{ODBC Driver 18}};Server=db;Uid=app;Pwd={PW};"',
        f'az storage blob upload --sas-token "?sv=2022-11-02&ss=b&sig={HEX}{HEX}%3D"',
        # Dockerfile-like ENV, npm's _auth, secret files
        f"ENV POSTGRES_PASSWORD {PW}",
        "cat > ~/.npmrc <<EOF\n_auth=" + "Y2ktYm90OlN0cm9uZ1Bhc3M5OTI=" + "\nEOF",
        f"echo {PW} > ~/.vault_pass.txt",
        # token formats
        "tailscale up --authkey tskey-auth-" + "kQ7vT2mX9p" + "CNTRL-Lw3Yz8Rb5Nd1",
        "export LINEAR_API_KEY=lin_api_" + "a" * 10 + "Q7vT2mX9pLw3Yz8Rb5Nd1Hc6Ks4Jt",
        "curl https://outlook.webhook.office.com/webhookb2/" + HEX + "@" + HEX + "/IncomingWebhook/" + HEX,
        # sed keeping the setting's name in a group, or writing redis's requirepass
        f'sed -i -e "s/^\\(password\\s*=\\s*\\).*/\\1{PW}/" /etc/zabbix/zabbix_server.conf',
        f"sed -i 's/^\\(api_token: *\\).*/\\1\"{PW}\"/' config.yml",
        f"sudo sed -i 's/^# requirepass foobared/requirepass {PW}/' /etc/redis/redis.conf",
        # a tool's secret setting: SSM SecureString, rclone's NAME VALUE pairs, codecov's uploader
        f"aws ssm put-parameter --name /prod/db_password --type SecureString \\\n  --value '{PW}' --overwrite",
        f"rclone config create b2remote b2 account 004a1b2c3d4e key {PW}",
        f"rclone config create box sftp host example.net user bob pass {PW}",
        f"bash <(curl -s https://codecov.io/bash) -t {PW}A1 -f coverage.xml",
        # credentials files: auth-user-pass, chap-secrets, pgbouncer's userlist, by echo or here-document
        f'echo -e "vpnuser\\n{PW}" > /etc/openvpn/auth.txt',
        f'echo \'"vpnuser" l2tpd "{PW}" *\' >> /etc/ppp/chap-secrets',
        f'cat > /etc/pgbouncer/userlist.txt <<EOF\n"app" "{PW}"\nEOF',
        f"sudo tee -a /etc/ppp/chap-secrets <<EOF\nvpnuser l2tpd {PW} *\nEOF",
        # here-documents answering password prompts, and ftp's login
        f"mysql_secure_installation <<EOF\n\ny\n{PW}\n{PW}\ny\nEOF",
        f"passwd bob <<EOF\n{PW}\n{PW}\nEOF",
        f"ftp -inv ftp.example.net <<EOF\nuser webdeploy {PW}\nbinary\nbye\nEOF",
        # token formats
        "nuget setapikey oy2" + HEX + "q7vt2mx -source https://www.nuget.org",
        "dotnet nuget push pkg.nupkg -k " + HEX,
        # the review's variants: a value with `/` (base64), piped uploader, tee, `--opt=`, k=v, sudo -S
        f"requirepass {PW}/Ab4+Cd=",
        f"redis-cli CONFIG SET masterauth aB3/{PW}",
        f"curl -s https://codecov.io/bash | bash -s -- -t {PW}A1",
        f"echo 'vpnuser * {PW} *' | sudo tee -a /etc/ppp/chap-secrets",
        f"aws ssm put-parameter --name /p/x --type=SecureString --value={PW}",
        f"rclone config create b2r b2 account=004a1b2c3d4e key={PW}",
        f"aws --region eu-west-1 ssm put-parameter --name /p/x --type SecureString --value {PW}",
        f"rclone --config /tmp/rc.conf config create r1 webdav url https://dav.example.net user bob pass {PW}",
        f"docker --config /tmp/dc login -u bob -p {PW} registry.example.net",
        f"sudo -S apt-get update <<EOF\n{PW}\nEOF",
        f"mysql_secure_installation <<EOF\n\ny\nS3cure!{PW}#42\ny\nEOF",
        f"ftp -n ftp.example.net <<END\nquote USER webdeploy\nquote PASS {PW}\nquit\nEND",
        # a function named for a secret that prints it; a NuGet key a few characters long
        f'get_db_password() {{\n  echo "{PW}"\n}}\nmysql -uroot -p"$(get_db_password)" -e "SELECT 1"',
        f"function api_token {{ printf '%s' {HEX}; }}",
        f"vault_secret(){{ echo -n '{PW}'; }}",
        '<add key="https://www.nuget.org/api/v2/package" value="oy2' + HEX + 'q7vt2mxk4r" />',
        # a second red team's shapes: tools that take a password on their command line
        f"security unlock-keychain -p '{PW}' build.keychain",
        f"security set-key-partition-list -S apple-tool:,apple: -s -k {PW} build.keychain",
        f"xcrun altool --upload-app -f App.ipa -t ios -u dev -p {PW}",
        f"apksigner sign --ks release.jks --ks-pass pass:{PW} --key-pass 'pass:{PW}' app.apk",
        f"racadm -r 10.0.5.21 -u root -p {PW} serveraction powercycle",
        f"mosquitto_pub -h mqtt -u sensor01 -P '{PW}' -t home/temp -m 21.5",
        f"mosquitto_passwd -b /etc/mosquitto/passwd sensor01 {PW}",
        f"snmpwalk -v3 -l authPriv -u monitor -a SHA -A '{PW}' -x AES -X '{PW}' 10.0.0.1 system",
        f"kadmin -p admin/admin -w '{PW}' -q 'listprincs'",
        f"arangosh --server.username root --server.password {PW}",
        f"db2 connect to SAMPLE user db2inst1 using {PW}",
        f"samba-tool domain provision --realm=CORP.ACME.IO --adminpass={PW} --server-role=dc",
        f"php admin/cli/install.php --dbuser=moodle --dbpass={PW} --adminpass={PW} --non-interactive",
        f"cargo login {HEX}",
        f"nuget setapikey {HEX} -Source https://nuget.example.net/v3/index.json",
        f"vault operator unseal {HEX}",
        f"cloudflared service install {HEX}",
        f"consul agent -server -encrypt={PW}A1b2C3d4e5F6g7H8= -data-dir=/opt/consul",
        f"kubeadm join 10.0.0.10:6443 --control-plane --certificate-key {HEX}",
        f"skopeo copy --src-creds ci:{PW} --dest-creds robot:{PW} docker://a docker://b",
        # secrets read on stdin
        f"echo '{PW}' | kinit svc_backup@CORP.EXAMPLE.NET",
        f"echo '{PW}' | sudo realm join --user=Administrator corp.example.net",
        f"echo -n '{PW}' | sudo cryptsetup luksFormat --batch-mode /dev/sdb1 -",
        f"echo '{PW}' | sudo openconnect --user=jdoe --passwd-on-stdin vpn.example.net",
        f"echo '{PW}' | openssl enc -aes-256-cbc -pbkdf2 -pass stdin -in a.tar -out a.tar.enc",
        # query strings and vendors' headers
        f"curl 'https://fn-app.azurewebsites.net/api/Run?code={HEX}&name=x'",
        f"curl -s https://proj.firebaseio.com/users.json?auth={PW}A1b2C3",
        f"curl 'https://api.openweathermap.org/data/2.5/weather?q=Oslo&appid={HEX}'",
        f"curl 'https://circleci.com/api/v1.1/me?circle-token={HEX}'",
        f'curl -H "DD-APPLICATION-KEY: {HEX}" https://api.datadoghq.com/api/v1/monitor',
        f'curl -H "Ocp-Apim-Subscription-Key: {HEX}" https://api.example.net/v1',
        # server configuration directives
        f"echo 'rootpw {PW}' >> /etc/openldap/slapd.conf",
        f"printf 'remotepass = {PW}\\n' >> ~/.offlineimaprc",
        f"cat >> /etc/haproxy/haproxy.cfg <<EOF\n    stats auth admin:{PW}\nuserlist ops\n    user bob insecure-password {PW}\nEOF",
        f"echo 'bob Cleartext-Password := \"{PW}\"' >> /etc/freeradius/3.0/users",
        f"echo 'rocommunity {PW} 10.0.0.0/8' > /etc/snmp/snmpd.conf",
        f'echo \'poll mail.example.net proto IMAP user "bob" password "{PW}"\' > ~/.fetchmailrc',
        # names the rules did not know, token formats, package managers
        f"export SSHPASS='{PW}'",
        f"RABBITMQ_ERLANG_COOKIE={HEX}",
        "echo 'AGE-SECRET-KEY-1"
        + (HEX.upper() + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")[:58]
        + "' > ~/.config/sops/age/keys.txt",
        f"cat > ta.ovpn <<EOF\n-----BEGIN OpenVPN Static key V1-----\n{HEX}\n-----END OpenVPN Static key V1-----\nEOF",
        f"export BUNDLE_GEMS__CONTRIBSYS__COM=user:{PW}",
        f"composer config --global github-oauth.github.com {HEX}",
        # code a script writes or runs, build DSLs, and settings that take user:PW
        f'python3 - <<EOF\nimport smtplib\ns = smtplib.SMTP_SSL("smtp.example.net", 465)\ns.login("alerts", "{PW}")\nEOF',
        f'mongosh admin <<EOF\ndb.auth("root", "{PW}")\nEOF',
        f"sqlplus -s /nolog <<EOF\nCONNECT sys/{PW}@ORCLPDB1 AS SYSDBA\nEXIT\nEOF",
        f"impacket-secretsdump 'CORP/svc_sql:{PW}@10.10.10.5'",
        f"filebeat setup -e -E cloud.id=prod:ZXUtd2Vz -E cloud.auth=elastic:{PW}",
        f'cat > metricbeat.yml <<EOF\ncloud.auth: "elastic:{PW}"\nEOF',
        f'cat > signing.gradle <<EOF\n    storePassword "{PW}"\n    keyPassword "{PW}"\nEOF',
        f'cat > ~/.lein/credentials.clj <<EOF\n{{#"clojars" {{:username "bob"\n  :password "{PW}"}}}}\nEOF',
        f"kubectl create secret generic openai --from-literal=api-key={HEX} -n ml",
        f"uci set wireless.@wifi-iface[0].key='{PW}'",
        f'cat > .yarnrc.yml <<EOF\nnpmAuthIdent: "deploy:{PW}"\nEOF',
        f'git config --global url."https://{HEX}:x-oauth-basic@github.com/".insteadOf "https://github.com/"',
        f"curl -s -u squ_{HEX}: https://sonar.example.net/api/qualitygates/project_status",
        f"curl -H 'X-Honeycomb-Team: {PW}A1b2C3d4' https://api.honeycomb.io/1/markers/prod",
        f'curl -s "https://fn.azurewebsites.net/api/Trigger?code={HEX}Ab=="',
        f"sudo raspi-config nonint do_wifi_ssid_passphrase HomeNet '{PW}'",
        f'echo "The admin password is {PW} - change it after the first login."',
        f"# API key: {HEX}",
        f"# default login: admin / {PW}",
        f"DB_PASSWORD='@{PW}'",
        f"REDIS_PASSWORD='-{PW}'",
        f"export AWS_SECRET_ACCESS_KEY=/{PW}Ab12Cd34Ef56Gh78Ij90Kl12Mn/",
        f'sed -i "s/CHANGEME/{PW}/" /etc/app/app.ini',
        f'sed -i "s/YOUR_LICENSE_KEY/{HEX}/" /etc/newrelic-infra.yml',
        # what a review of those rules found they had stopped catching
        f"PAGERDUTY_ROUTING_KEY={HEX}",
        f'echo "{HEX}" | gpg --batch --passphrase-fd 0 -d secrets.gpg',
        f'aws s3 cp f.tar s3://bucket/ --sse-c AES256 --sse-c-key "{HEX}"',
        f'echo "{HEX}" > /var/www/public/api_token',
        f"db2 connect to SAMPLE user db2inst1 using {PW}",
        f"security add-generic-password -a ci -s deploy -w {PW}",
        f"cat > compose.yml <<EOF\n    environment:\n      POSTGRES_PASSWORD: {PW}!x#2\nEOF",
        f"pulumi config set --secret dbPassword '{PW}'",
    ],
)
def test_an_unseen_shape_of_secret_is_scrubbed(snippet: str) -> None:
    out = scrubbed(f"#!/bin/bash\n{snippet}\n")
    for secret in (PW, HEX):
        assert secret not in out, out
    assert "REDACTED_" in out, out  # snippets whose secret is neither PW nor HEX (token formats)


@pytest.mark.parametrize(
    ("snippet", "secret"),
    [
        ("curl -X POST https://hooks.zapier.com/hooks/catch/7402429/iq370l5/ -d 'x=1'", "iq370l5"),
        (
            "cat > ceph.keyring <<EOF\n[client.admin]\n\tkey = AQ6OrIfFmU1XsNVI+D1auk9IxuK1FzA5CeR3j4CK==\nEOF",
            "AQ6OrIfFmU1XsNVI",
        ),
    ],
)
def test_a_token_format_without_a_name_is_scrubbed(snippet: str, secret: str) -> None:
    out = scrubbed(f"#!/bin/bash\n{snippet}\n")
    assert secret not in out and "REDACTED_" in out, out


@pytest.mark.parametrize(
    ("snippet", "secret"),
    [
        ("DB_PASSWORD=correct.horse.battery", "correct.horse.battery"),
        ("SMTP_PASSWORD=the-quick-brown-fox", "the-quick-brown-fox"),
        ("ssh -i key jane.doe@gmail.com", "jane.doe@gmail.com"),
    ],
)
def test_a_password_of_words_and_a_persons_address_after_ssh_are_scrubbed(snippet: str, secret: str) -> None:
    out = scrubbed(f"#!/bin/bash\n{snippet}\n")
    assert secret not in out, out


def test_base64_of_a_credential_document_is_scrubbed() -> None:
    # base64 of {"auths": {"registry.example.net": {"auth": ...}}}: a .dockerconfigjson
    config = "eyJhdXRocyI6IHsicmVnaXN0cnkuZXhhbXBsZS5uZXQiOiB7ImF1dGgiOiAiWW05ME9sQlhNVEl6TkRVMk56ZzUifX19"
    out = scrubbed(
        f"#!/bin/bash\nkubectl create secret generic regcred --from-literal=.dockerconfigjson={config}\n"
    )
    assert config[:16] not in out and "REDACTED_BASE64_CREDENTIALS" in out, out


@pytest.mark.parametrize(
    "line",
    [
        'echo "Usage: $0 --token <TOKEN> [--api-key KEY]"',
        "kubectl create secret generic app --from-file=password=./secrets/db_password.txt",
        "ansible-playbook --ask-vault-pass site.yml",
        "createdb --no-password mydb",
        "  user.password = user.password_confirmation = ARGV[0]",
        "            password=os.environ['OS_PASSWORD'],",
        "        pwd = os.getcwd()",
        'Display --text "- Redis (requirepass configured)" --result "${STATUS_FOUND}"',
        'sed -i "s/# requirepass foobared/requirepass $REDIS_PASS/" /etc/redis/redis.conf',
        "gh secret set name -b value -R owner/repository",
        "openssl passwd -apr1 -salt salt_string",
        "PWFILTER='s/rd.iscsi.password=[^ ]*/rd.iscsi.password=******/g'",
        'echo "Password: updated"',
        'echo "Token: expired, run login again"',
        "curl -H 'X-Cache-Key: page' https://example.net/",
        "echo hello | git hash-object --stdin",
        'CONN="Server=db;Uid=app;Pwd=$DB_PASSWORD;"',
        "psql -c \"ALTER USER postgres PASSWORD '$PGPASSWORD'\"",
        'until mysqladmin -uroot -p"$MYSQL_ROOT_PASSWORD" ping; do sleep 1; done',
        "vault login -method=token token=-",
        'RELEASE_AUTH="caching_sha2_password"',
        "export API_AUTH=basic",
        "MANIFEST_B64=" + "eyJuYW1lIjogImZyb250ZW5kIiwgInJlcGxpY2FzIjogMywgImltYWdlIjogIm5naW54OjEuMjcifQ==",
        'expect "Are you sure you want to continue connecting"\nsend "yes\\r"',
        "root:*:0:0:root:/root:/bin/bash",
        "printf 'password=%s\\n' \"$DB_PASSWORD\" > db.conf",
        "printf '%s=%s\\n' name value",
        "printf 'Token: %s, user: %s\\n' none admin",
        'curl -s -d "{\\"username\\":\\"admin\\",\\"password\\":\\"$PW\\"}" https://api.example.net/login',
        'deploy --token \\\n  "$TOKEN" --repo acme/site',
        "chpasswd <<EOF\nroot:$ROOT_PASSWORD\nEOF",
        # the review's false positives of the new rules
        'curl -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" https://example.net/',
        'curl -H "Idempotency-Key: order20240101" https://api.example.net/v1/charges',
        "aws s3api list-objects-v2 --bucket b --starting-token eyJNYXJrZXIiOiBudWxsfQ2024",
        "aws ec2 run-instances --client-token 550e8400-e29b-41d4-a716-446655440000",
        "python3 - <<EOF\nopenai.api_key = key\nEOF",
        "crudini --set --existing /etc/nova/nova.conf keystone_authtoken memcached_servers ctl01:11211",
        "grafana-cli admin data-migration encrypt-datasource-passwords",
        "mc alias set myminio https://s3.example.net ACCESSKEY2024 --api s3v4",
        "ansible-vault encrypt_string --vault-password-file vault2024.pass --name x",
        "vault login -format json -method=userpass username=bob",
        "smbclient //fs01/public -R lmhosts -c ls",
        'expect "password:"\nsend "$PASS\\r"\nsend "uptime\\r"',
        'expect "Enter passphrase"\nexpect eof\nsend "exit\\r"',
        'echo "Password: expires2024"',
        'curl -H "Cookie: auth_mode=standard2; theme=dark" https://example.net/',
        'echo "v1:abcdef123456" | base64',
        "ENV TINI_KEY 595E85A6B1B4779EA4DAAEC70B588DFF0527A9B7",
        "<passwordEncoder>bcrypt2024</passwordEncoder>",
        "git clone https://contoso-engineering-2024@dev.azure.com/contoso/app/_git/app",
        'echo "d-i passwd/passwd-hash-algo string sha256" | debconf-set-selections',
        "ansible all -m copy -a \"passthrough={{ 'x2024abcd' | quote }}\"",
        'echo "done" > /tmp/first_pass.log',
        'echo "state=2pass1" > /tmp/encoder_pass.txt',
        "www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin",
        "#d-i passwd/root-password-crypted password passwordhash",
        "(echo; echo) | fdisk /dev/sdb",
        "PACKAGES=(\n  curl\n  jq\n)",
        "export PATH=\\\n/usr/local/bin:$PATH",
        'read -r -p "Continue [y/N]: " answer',
        "declare -A colors=(\n  [error]=red\n)",
        "smbclient //fs01/share -U user -c 'ls'",
        "crudini --set /etc/nova/nova.conf DEFAULT debug true",
        "poetry config virtualenvs.in-project true",
        # near the sed, tool, file and here-document rules (several from the corpus)
        "sed -i 's/^\\(PasswordAuthentication\\s*\\).*/\\1no/' /etc/ssh/sshd_config",
        "sed -i 's/^\\(password_min_length\\s*=\\s*\\).*/\\112/' /etc/app.conf",
        "aws ssm put-parameter --name /app/region --type String --value eu-west-1b2",
        "rclone config update myremote key mykeyname",
        "aws --profile prod ssm get-parameter --name /app/region --query Parameter.Value",
        "docker --log-level debug run -p 8080:80 nginx",
        "git -C repo2024 config user.name builder2024",
        'echo "password requisite pam_pwhistory.so remember=4" > /etc/pam.d/common-password',
        'echo "test_user_2:x:30090:30090:Test User 2:/home/test_user_2:/usr/bin/bash" >> /etc/passwd',
        'echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2x9 user@host" >> ~/.ssh/authorized_keys',
        "cat > auth-config.yaml <<EOF\n  - mountPath: /opt/metal3/auth/ironic\n    uid: e4f746bf-dbf8-40b5\nEOF",
        'cat <<EOF > /etc/nginx/auth.conf\nauth_basic "Restricted";\nlisten 8080;\nEOF',
        "sftp deploy@host <<EOF\nput build2024.tar\nEOF",
        "ftp -n host <<END\nuser anonymous $EMAIL\nget file1.tar.gz\nEND",
        "cat >> /etc/passwd <<EOF\nsvc2:x:1002:1002::/home/svc2:/bin/sh\nEOF",
        # the review's false positives of the first version of these rules
        "sed -i 's/^\\(passwd:\\s*\\).*/\\1compat/' /etc/nsswitch.conf",
        "sed -i 's/^\\(passwd:.*\\)/\\1 sss/' /etc/nsswitch.conf",
        "sed -i 's/^\\(password\\s*requisite\\s*pam_pwquality.so\\)/\\1 minlen=14/' /etc/pam.d/common-password",
        "sed -i 's/\\(password\\)_old/\\1_new/g' schema.sql",
        'while read -r u; do passwd -l "$u"; done <<EOF\nolduser2019\ntempuser2020\nEOF',
        "ssh -o PasswordAuthentication=no deploy@web1 <<EOF\ngit checkout release2024\nEOF",
        'PGPASSWORD="$PGPASS" psql -h db -U app <<SQL\nREINDEX TABLE orders2024;\nSQL',
        "cat > /etc/nginx/conf.d/oauth2.conf <<EOF\nupstream oauth2proxy {\nEOF",
        "cat > src/token_types.h <<EOF\nTOKEN_INT64\nEOF",
        "cat > /etc/vsftpd.userlist <<EOF\njsmith2024\nEOF",
        'echo "Failed password for invalid user admin1234 from 10.0.0.1" >> /var/log/auth.log',
        'echo "contributor42 <c42@example.com>" >> AUTHORS',
        "aws ssm put-parameter --name /app/SecureStringMigrated --type String --value release2024a",
        'rclone config create mys3 s3 secret_access_key "$S3_SECRET" endpoint http://minio:9000',
        "sudo apt-get install -y pkg <<EOF\nanswer2024x\nEOF",
        'get_password() {\n  echo "$DB_PASSWORD"\n}',
        'password_prompt() { echo "Enter the password:"; }',
        "token_file() { echo /etc/app/token2024; }",
        "get_key_id() { echo ABCD1234EF; }",
        "usage() { echo abc123def456; }",
        "tini_key() { echo 595E497B449C7CD5CB0E4AE5B2E3E30F2B4BF327; }",
        # a second red team's look-alikes
        "docker build --secret id=npmrc,src=.npmrc -t app .",
        "gcloud run deploy app --secret=db-password",
        "tailscale up --auth-key=file:/run/secrets/ts.key",
        "cat > main.tf <<EOF\n  password = var.db_password\nEOF",
        'echo "password: process.env.DB_PASSWORD," >> config.js',
        "VAULT_TOKEN_ROLE=ci-runner",
        "SECRET_ENGINE=kv-v2",
        "ROUTING_KEY=orders.created",
        "STRIPE_PUBLISHABLE_KEY=pk_test_51Hq7vT2mX9pLwAbCdEf",
        "RECAPTCHA_SITE_KEY=6LcQ7vT2mX9pLwAbCdEfGh",
        'curl -H "Authorization: Bearer your-api-token" https://api.example.net',
        "SLACK_TOKEN=replace-me",
        "ssh -i ~/.ssh/id_ed25519 ubuntu@ec2-3-91-4-7.compute-1.amazonaws.com uptime",
        "ssh-copy-id -i ~/.ssh/id_rsa.pub deploy@web1.example.org",
        "echo 'rocommunity public 10.0.0.0/8' > /etc/snmp/snmpd.conf",
        "echo 'rouser monitor2024 priv' >> /etc/snmp/snmpd.conf",
        "echo 'password required pam_unix.so' >> /etc/pam.d/custom",
        "curl 'https://www.youtube.com/watch?v=dQw4w9WgXcQ2&list=abc'",
        "podman run --rm --secret api_token,type=env,target=API_TOKEN acme/worker:3",
        "gpg --batch --yes --delete-secret-key 4ED778F539E3634C779C87C6D7062848A1AB005C",
        'git config --global user.signingkey "3AA5C34371567BD2"',
        'apt-key adv --keyserver hkp://keyserver.ubuntu.com:80 --recv-keys "C99B11DEB97541F0"',
        'aws s3api head-object --bucket build-cache --key "a8f5f167f44f4964e6c998dee827110c"',
        'echo "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=" > /etc/wireguard/peer1_public.key',
        'sed -i "s/__TLS_SECRET_NAME__/app-tls/" k8s/ingress.yaml',
        "export POSTHOG_KEY=phc_con27g7KAZuiZB5mpMCPB7tW6kTd7fQEdM4zdI",
        "gcloud run deploy app --image gcr.io/acme/app --secret=db-password",
        'echo "Your password is too short: use 12 characters or more."',
        "# the token: see the wiki",
        "  keyAlias 'release'",
        'db.auth(user, "$MONGO_PASSWORD")',
        "s.login(user, password)",
        "SSL_KEY_PASSWORD_FILE=/etc/ssl/private/server2024.pass",
        "PASSWORD='-'",
        'sed -i "s/CHANGEME/$DB_PASSWORD/" /etc/app/app.ini',
        # a review's look-alikes of the second red team's rules
        "security find-identity -v -p codesigning",
        "security add-trusted-cert -d -r trustRoot -p ssl -p basic -k /Library/Keychains/System.keychain ca.pem",
        "db2 update db cfg for blutran using logprimary 5",
        "openssl smime -encrypt -aes-256-cbc -in k.txt -out k.enc cert.pem",
        "gpg --output out.gpg --encrypt db_dump_v2",
        "kubectl --token /var/run/secrets/k8s2/token get pods",
        "sed -i 's/changeme/myproject2/g' deploy.yaml",
        "sed -i 's/CHANGEME/1.2.3/' chart.yaml",
        'get_secret "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod-db-AbCdEf"',
        'fetch_secret "prod/db2/password"',
        'get_secret() { echo "prod/db2/password"; }',
        'python3 - <<EOF\nconn = pymysql.connect("localhost", "reporting2", os.environ["PW"], "reports")\nEOF',
        'echo "The secret is AES-256-GCM-encrypted at rest"',
        "# the token is RS256-signed by the issuer",
        "curl -O 'https://dl.example.net/get?key=release_2024_01_15'",
        "curl 'https://api.example.net/v1?appid=com.example.myapp2'",
        "cargo login --registry my-registry2",
        "export GOOGLE_APPLICATION_CREDENTIALS=/Users/Jenkins2/Keys/ServiceAccount",
        "curl -u jenkins-ci-bot-2024-prod: https://ci.example.net/api/json",
        "aws ec2 describe-instances --nexttoken abc123def456ghi",
        'pulumi config set --secret dbPassword "$DB_PASSWORD"',
        "pulumi config set aws:region us-east-1",
        "echo 'usage: ssh deploy@web1.example.net' && ssh -i key ubuntu@10.0.0.5",
    ],
)
def test_code_near_the_new_shapes_is_left_alone(line: str) -> None:
    text = f"#!/bin/bash\n{line}\n"
    assert scrubbed(text) == text
