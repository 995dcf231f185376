"""Recall and false positives of the corpus secret scrubber on planted secrets.

Builds ~120 realistic bash scripts, each with one secret planted in a
realistic place (token formats, passwords given to tools, URLs, headers,
heredocs, SQL strings, sed templates, comments, continuation lines ...), and
~60 benign scripts that look close to one (prompts, expansions, checksums,
documentation placeholders), runs `collect.secrets.scrub` on each and prints
the recall, every planted secret that survives (its input and output lines)
and every benign line that changed. A secret survives when its value, or any
12-character window of it (shorter values: the whole value), is still in the
output. Random values come from a fixed seed, so runs are comparable. Written
from a helper's sweep (2026-11-30: 87/122 caught before the long-tail rules,
116/122 after, no benign script changed; 119/122 with the prose, key-file
and key-id rules of the next session).

Usage: .venv/bin/python bench/secret_recall.py [--json results.json]
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import uuid

from bashcoder.trainer.collect.secrets import scrub

R = random.Random(20240611)
ALNUM = string.ascii_letters + string.digits
UPNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    # at least one digit, one upper, one lower when the alphabet allows (real tokens almost always have)
    while True:
        s = "".join(R.choice(alphabet) for _ in range(n))
        if n < 8 or all(
            any(c in cls for c in s)
            for cls in (string.digits, string.ascii_lowercase, string.ascii_uppercase)
            if any(c in cls for c in alphabet)
        ):
            return s


def rhex(n: int) -> str:
    return "".join(R.choice(HEX) for _ in range(n))


def ruuid() -> str:
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def pem_body(prefix: str, nlines: int) -> list[str]:
    raw = base64.b64encode(bytes(R.getrandbits(8) for _ in range(48 * nlines))).decode()
    raw = prefix + raw[len(prefix) :]
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


def human_pw() -> str:
    words = [
        "Summer",
        "Winter",
        "Dragon",
        "Monkey",
        "Falcon",
        "Orange",
        "Tiger",
        "Rocket",
        "Purple",
        "Shadow",
    ]
    return R.choice(words) + R.choice(words).lower() + str(R.randint(10, 9999)) + R.choice("!#%*+.")


AWS_ID = "AKIA" + rnd(16, UPNUM)
AWS_ID2 = "ASIA" + rnd(16, UPNUM)
AWS_SECRET = rnd(40, B64)
AWS_SECRET2 = rnd(40, B64)
AWS_SECRET_DOC = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

CASES: list[tuple[str, str, list[str]]] = []  # (kind, script, secrets)


def case(kind: str, script: str, *secrets: str) -> None:
    CASES.append((kind, script.strip("\n") + "\n", list(secrets)))


H = "#!/usr/bin/env bash\nset -euo pipefail\n"

# ---------------- AWS
case(
    "aws-key-id/export",
    H + f"export AWS_ACCESS_KEY_ID={AWS_ID}\nexport AWS_DEFAULT_REGION=us-east-1\naws s3 ls\n",
    AWS_ID,
)
case(
    "aws-secret/export",
    H
    + f'export AWS_ACCESS_KEY_ID="$KEY_ID"\nexport AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"\naws s3 sync ./dist s3://my-bucket/\n',
    AWS_SECRET,
)
case("aws-secret/documented-example", H + f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET_DOC}\n", AWS_SECRET_DOC)
case(
    "aws-secret/configure-set",
    H
    + f"aws configure set aws_access_key_id {AWS_ID2}\naws configure set aws_secret_access_key {AWS_SECRET2}\naws configure set region eu-west-1\n",
    AWS_ID2,
    AWS_SECRET2,
)
s = rnd(40, B64)
case(
    "aws-secret/credentials-heredoc",
    H
    + f"mkdir -p ~/.aws\ncat > ~/.aws/credentials <<EOF\n[default]\naws_access_key_id = AKIA{rnd(16, UPNUM)}\naws_secret_access_key = {s}\nEOF\n",
    s,
)
s = rnd(40, B64)
case(
    "aws-secret/docker-env",
    H
    + f"docker run --rm -e AWS_ACCESS_KEY_ID=AKIA{rnd(16, UPNUM)} -e AWS_SECRET_ACCESS_KEY={s} amazon/aws-cli s3 ls\n",
    s,
)
s = rnd(40, B64)
case("aws-secret/line-continuation", H + f"export AWS_SECRET_ACCESS_KEY=\\\n{s}\n", s)

# ---------------- GitHub
t = "ghp_" + rnd(36)
case("github/ghp-export", H + f"export GITHUB_TOKEN={t}\ngh release create v1.0.0 ./dist/*\n", t)
t = "gho_" + rnd(36)
case("github/gho-clone-url", H + f"git clone https://{t}@github.com/acme/private-repo.git\n", t)
t = "github_pat_" + rnd(22) + "_" + rnd(59)
case(
    "github/pat-clone-url",
    H + f"git clone https://x-access-token:{t}@github.com/acme/infra.git /opt/infra\n",
    t,
)
t = "ghp_" + rnd(36)
case(
    "github/curl-auth-token",
    H + f'curl -s -H "Authorization: token {t}" https://api.github.com/user/repos\n',
    t,
)
t = "ghs_" + rnd(36)
case(
    "github/git-credentials",
    H
    + f'echo "https://ci-bot:{t}@github.com" > ~/.git-credentials\ngit config --global credential.helper store\n',
    t,
)
t = "ghp_" + rnd(36)
case("github/comment", H + f"# token: {t}\ngit push origin main\n", t)
t = "ghp_" + rnd(36)
case("github/gh-auth-herestring", H + f"gh auth login --with-token <<< {t}\n", t)
t = "ghp_" + rnd(36)
case(
    "github/split-continuation",
    H + f'curl -H "Authorization: token {t[:20]}\\\n{t[20:]}" https://api.github.com/user\n',
    t,
)

# ---------------- GitLab
t = "glpat-" + rnd(20, URLSAFE)
case(
    "gitlab/private-token-header",
    H + f'curl --header "PRIVATE-TOKEN: {t}" "https://gitlab.com/api/v4/projects"\n',
    t,
)
t = "glpat-" + rnd(20, URLSAFE)
case("gitlab/remote-url", H + f"git remote set-url origin https://oauth2:{t}@gitlab.com/acme/app.git\n", t)

# ---------------- Slack
t = f"xoxb-{R.randint(10**11, 10**12)}-{R.randint(10**12, 10**13)}-{rnd(24)}"
case(
    "slack/xoxb-bearer",
    H
    + f'curl -X POST -H "Authorization: Bearer {t}" -H "Content-type: application/json" --data \'{{"channel":"#ops","text":"deploy done"}}\' https://slack.com/api/chat.postMessage\n',
    t,
)
t = f"xoxp-{R.randint(10**11, 10**12)}-{R.randint(10**11, 10**12)}-{R.randint(10**12, 10**13)}-{rhex(32)}"
case("slack/xoxp-var", H + f"SLACK_USER_TOKEN='{t}'\n", t)
w = f"T{rnd(8, UPNUM)}/B{rnd(10, UPNUM)}/{rnd(24)}"
case(
    "slack/webhook",
    H
    + f'WEBHOOK=https://hooks.slack.com/services/{w}\ncurl -X POST --data-urlencode \'payload={{"text": "Build failed"}}\' "$WEBHOOK"\n',
    w.split("/")[-1],
)

# ---------------- Stripe
t = "sk_live_" + rnd(99)
case(
    "stripe/sk-live-curl-u",
    H + f"curl https://api.stripe.com/v1/charges -u {t}: -d amount=2000 -d currency=usd\n",
    t,
)
t = "rk_live_" + rnd(24)
case("stripe/rk-live-var", H + f"STRIPE_RESTRICTED_KEY={t}\n", t)

# ---------------- OpenAI / Anthropic
t = "sk-" + rnd(20) + "T3BlbkFJ" + rnd(20)
case("openai/sk-legacy", H + f'export OPENAI_API_KEY="{t}"\n', t)
t = "sk-proj-" + rnd(74, URLSAFE) + "T3BlbkFJ" + rnd(74, URLSAFE)
case(
    "openai/sk-proj-bearer", H + f'curl https://api.openai.com/v1/models -H "Authorization: Bearer {t}"\n', t
)
t = "sk-ant-api03-" + rnd(93, URLSAFE) + "AA"
case(
    "anthropic/x-api-key-header",
    H
    + f'curl https://api.anthropic.com/v1/messages -H "x-api-key: {t}" -H "anthropic-version: 2023-06-01"\n',
    t,
)
t = "sk-ant-api03-" + rnd(93, URLSAFE) + "AA"
case("anthropic/export", H + f"export ANTHROPIC_API_KEY={t}\n", t)

# ---------------- Google
t = "AIza" + rnd(35, URLSAFE)
case(
    "google/api-key-query",
    H + f'curl "https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={t}"\n',
    t,
)
pk = pem_body("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 10)
pkid = rhex(40)
gcp = (
    'cat > /tmp/sa.json <<\'EOF\'\n{\n  "type": "service_account",\n  "project_id": "acme-prod-381204",\n'
    f'  "private_key_id": "{pkid}",\n'
    '  "private_key": "-----BEGIN PRIVATE KEY-----\\n'
    + "\\n".join(pk)
    + '\\n-----END PRIVATE KEY-----\\n",\n'
    '  "client_email": "deployer@acme-prod-381204.iam.gserviceaccount.com"\n}\nEOF\n'
    "gcloud auth activate-service-account --key-file=/tmp/sa.json\n"
)
case("gcp/service-account-private-key", H + gcp, *pk[1:])
case("gcp/service-account-private-key-id", H + gcp, pkid)

# ---------------- PEM keys
pk = pem_body("MIIEowIBAAKCAQEA", 12)
case(
    "pem/rsa-heredoc",
    H
    + "cat > ~/.ssh/id_rsa <<EOF\n-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(pk)
    + "\n-----END RSA PRIVATE KEY-----\nEOF\nchmod 600 ~/.ssh/id_rsa\n",
    *pk[1:],
)
pk = pem_body("MHcCAQEEI", 3)
case(
    "pem/ec-echo-e",
    H
    + 'echo -e "-----BEGIN EC PRIVATE KEY-----\\n'
    + "\\n".join(pk)
    + '\\n-----END EC PRIVATE KEY-----" > /etc/ssl/private/server.key\n',
    *pk,
)
pk = pem_body("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 7)
case(
    "pem/openssh-heredoc",
    H
    + "install -m 600 /dev/stdin ~/.ssh/deploy_key <<'KEY'\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
    + "\n".join(pk)
    + "\n-----END OPENSSH PRIVATE KEY-----\nKEY\n",
    *pk[2:],
)
pk = pem_body("MIIEvgIBADANBgkqhkiG9w0BAQEFAASC", 4)
case(
    "pem/printf-args",
    H
    + "printf '%s\\n' '-----BEGIN PRIVATE KEY-----' "
    + " ".join(f"'{ln}'" for ln in pk)
    + " '-----END PRIVATE KEY-----' > key.pem\n",
    *pk[1:],
)
pk = pem_body("MIIEowIBAAKCAQEA", 4)
case(
    "pem/variable-multiline",
    H
    + 'SSH_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\n'
    + "\n".join(pk)
    + '\n-----END RSA PRIVATE KEY-----"\necho "$SSH_PRIVATE_KEY" | ssh-add -\n',
    *pk[1:],
)


# ---------------- JWT
def jwt() -> str:
    hdr = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = (
        base64.urlsafe_b64encode(
            json.dumps(
                {"sub": str(R.randint(1, 10**9)), "name": "svc", "iat": R.randint(1.6e9, 1.7e9)}
            ).encode()
        )
        .decode()
        .rstrip("=")
    )
    return f"{hdr}.{body}.{rnd(43, URLSAFE)}"


t = jwt()
case(
    "jwt/bearer",
    H + f'curl -H "Authorization: Bearer {t}" https://api.internal.example.com/v2/jobs\n',
    t.split(".", 1)[1],
)
t = jwt()
case("jwt/kubectl-token", H + f"kubectl config set-credentials ci --token={t}\n", t.split(".", 1)[1])

# ---------------- npm / PyPI
t = "npm_" + rnd(36)
case("npm/token-export", H + f"export NPM_TOKEN={t}\nnpm publish\n", t)
t = ruuid()
case("npm/legacy-uuid-authToken", H + f'echo "//registry.npmjs.org/:_authToken={t}" > ~/.npmrc\n', t)
t = "npm_" + rnd(36)
case("npm/npmrc-authToken", H + f"npm config set //registry.npmjs.org/:_authToken {t}\n", t)
t = "pypi-AgEIcHlwaS5vcmc" + rnd(60, URLSAFE)
case("pypi/twine-p", H + f"twine upload -u __token__ -p {t} dist/*\n", t)
t = "pypi-AgEIcHlwaS5vcmc" + rnd(60, URLSAFE)
case(
    "pypi/pypirc-heredoc",
    H + f"cat > ~/.pypirc <<EOF\n[pypi]\nusername = __token__\npassword = {t}\nEOF\n",
    t,
)

# ---------------- CLI passwords
p = human_pw()
case("docker/login-p", H + f"docker login -u deploy -p '{p}' registry.example.com\n", p)
p = rnd(20)
case("docker/login-password", H + f"docker login registry.gitlab.com --username ci --password {p}\n", p)
p = rnd(16)
case(
    "docker/echo-password-stdin",
    H + f'echo "{p}" | docker login -u deploy --password-stdin registry.example.com\n',
    p,
)
p = human_pw()
case("mysql/-p-attached", H + f"mysql -uroot -p'{p}' -e 'SHOW DATABASES;'\n", p)
p = rnd(14)
case(
    "mysql/-p-continuation",
    H + f"mysqldump -u backup \\\n  -p{p} \\\n  --single-transaction appdb > /backup/appdb.sql\n",
    p,
)
p = rnd(14)
case(
    "mysql/identified-by",
    H + f"mysql -uroot -e \"CREATE USER 'app'@'%' IDENTIFIED BY '{p}'; GRANT ALL ON app.* TO 'app'@'%';\"\n",
    p,
)
p = rnd(14)
case(
    "postgres/alter-user-sql",
    H + f"sudo -u postgres psql -c \"ALTER USER postgres WITH PASSWORD '{p}';\"\n",
    p,
)
p = rnd(16)
case("postgres/url", H + f'psql "postgres://app_user:{p}@db.internal:5432/appdb" -c "select 1"\n', p)
p = rnd(18)
case("postgres/conninfo", H + f'psql "host=db.internal port=5432 user=app password={p} dbname=appdb"\n', p)
p = rnd(16)
case("postgres/pgpass", H + f'echo "db.internal:5432:appdb:app:{p}" > ~/.pgpass\nchmod 600 ~/.pgpass\n', p)
p = rnd(20)
case("mongodb/srv-url", H + f'mongosh "mongodb+srv://admin:{p}@cluster0.ab1cd.mongodb.net/test"\n', p)
p = rnd(24)
case("redis/url-empty-user", H + f"export REDIS_URL=redis://:{p}@redis.internal:6379/0\n", p)
p = rnd(24)
case("redis/cli-a", H + f"redis-cli -h redis.internal -a {p} PING\n", p)
p = human_pw()
case("sshpass/-p", H + f"sshpass -p '{p}' ssh -o StrictHostKeyChecking=no admin@10.0.0.5 uptime\n", p)
p = human_pw()
case("curl/-u", H + f"curl -u admin:'{p}' https://jenkins.example.com/api/json\n", p)
p = rnd(12)
case(
    "curl/-u-unquoted",
    H + f"curl -fsS --user deploy:{p} -T app.war https://nexus.example.com/repository/releases/\n",
    p,
)
p = human_pw()
case("wget/--password=", H + f"wget --user=ftpuser --password='{p}' ftp://ftp.example.com/pub/file.tgz\n", p)
p = rnd(12)
case("htpasswd/-b", H + f"htpasswd -bc /etc/nginx/.htpasswd admin {p}\n", p)
p = rnd(16)
case(
    "openssl/passout",
    H + f"openssl pkcs12 -export -in cert.pem -inkey key.pem -out bundle.p12 -passout pass:{p}\n",
    p,
)
p = rnd(16)
case("openssl/enc-k", H + f"openssl enc -aes-256-cbc -salt -in backup.tar -out backup.tar.enc -k {p}\n", p)
p = rnd(16)
case("ssh-keygen/-N", H + f"ssh-keygen -t ed25519 -f ~/.ssh/deploy -N '{p}' -C deploy\n", p)
p = rnd(16)
case("passwd/echo-pipe", H + f'echo -e "{p}\\n{p}" | passwd deploy\n', p)
p = rnd(14)
case("chpasswd", H + f"echo 'deploy:{p}' | chpasswd\n", p)
p = rnd(14)
case(
    "rabbitmqctl/add_user",
    H + f"rabbitmqctl add_user admin {p}\nrabbitmqctl set_user_tags admin administrator\n",
    p,
)
p = rnd(30, ALNUM + "~.")
case("az/login-sp-p", H + f"az login --service-principal -u {ruuid()} -p '{p}' --tenant {ruuid()}\n", p)
k = base64.b64encode(bytes(R.getrandbits(8) for _ in range(64))).decode()
case(
    "az/storage-account-key-flag",
    H
    + f"az storage blob upload --account-name acmestore --account-key {k} -c backups -f db.tar.gz -n db.tar.gz\n",
    k,
)
k = base64.b64encode(bytes(R.getrandbits(8) for _ in range(64))).decode()
case(
    "azure/connection-string",
    H
    + f'export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={k};EndpointSuffix=core.windows.net"\n',
    k,
)
p = rnd(16)
case(
    "helm/--set-password",
    H
    + f"helm upgrade --install db bitnami/postgresql --set auth.postgresPassword={p} --set auth.database=app\n",
    p,
)
p = rnd(16)
case(
    "kubectl/from-literal",
    H + f"kubectl create secret generic db-creds --from-literal=username=app --from-literal=password={p}\n",
    p,
)
p = rnd(14)
case("sed/placeholder-substitution", H + f"sed -i 's/__DB_PASSWORD__/{p}/' /etc/app/config.php\n", p)
p = rnd(14)
case("wp-cli/config-set", H + f"wp config set DB_PASSWORD '{p}' --allow-root\n", p)
p = rnd(14)
case("gpg/--passphrase", H + f"gpg --batch --yes --passphrase {p} -c secrets.tar\n", p)
p = rnd(12)
case("smbclient/-U%", H + f"smbclient //fs01/share -U 'CORP\\\\svc_backup%{p}' -c 'ls'\n", p)
p = rnd(12)
case("sqlplus/user-slash", H + f"sqlplus -s system/{p}@ORCL <<< 'select 1 from dual;'\n", p)

# ---------------- Twilio, SendGrid, Heroku, Telegram, Discord, Mailgun, Datadog, Vault, Terraform
t = "SK" + rhex(32)
case("twilio/api-key-sid", H + f"export TWILIO_API_KEY={t}\n", t)
t = rhex(32)
case(
    "twilio/auth-token-curl-u",
    H
    + f"curl -X POST https://api.twilio.com/2010-04-01/Accounts/AC{rhex(32)}/Messages.json -u AC{rhex(32)}:{t} --data-urlencode 'Body=hi'\n",
    t,
)
t = f"SG.{rnd(22, URLSAFE)}.{rnd(43, URLSAFE)}"
case(
    "sendgrid/header",
    H
    + f'curl --request POST --url https://api.sendgrid.com/v3/mail/send --header "Authorization: Bearer {t}"\n',
    t,
)
t = f"SG.{rnd(22, URLSAFE)}.{rnd(43, URLSAFE)}"
case("sendgrid/positional", H + f"./notify.sh --smtp-user apikey {t} ops@example.org\n", t)
t = ruuid()
case("heroku/api-key-export", H + f"export HEROKU_API_KEY={t}\nheroku container:release web -a myapp\n", t)
t = ruuid()
case(
    "heroku/netrc-heredoc",
    H + f"cat >> ~/.netrc <<EOF\nmachine api.heroku.com\n  login ci@acme.io\n  password {t}\nEOF\n",
    t,
)
t = f"{R.randint(10**9, 7 * 10**9)}:AA{rnd(33, URLSAFE)}"
case(
    "telegram/bot-url",
    H + f'curl -s "https://api.telegram.org/bot{t}/sendMessage" -d chat_id=-100123 -d text="done"\n',
    t.split(":")[1],
)
t = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
case("telegram/documented-example", H + f'TELEGRAM_BOT_TOKEN="{t}"\n', t)
t = f"{R.randint(10**8, 10**9)}:{rnd(35, URLSAFE)}"
case("telegram/bot-url-no-AA", H + f'curl -s "https://api.telegram.org/bot{t}/getUpdates"\n', t.split(":")[1])
t = f"{R.randint(10**17, 10**18)}/{rnd(68, URLSAFE)}"
case(
    "discord/webhook",
    H
    + f'curl -H "Content-Type: application/json" -d \'{{"content":"up"}}\' https://discord.com/api/webhooks/{t}\n',
    t.split("/")[1],
)
t = "key-" + rhex(32)
case(
    "mailgun/curl-api",
    H + f"curl -s --user 'api:{t}' https://api.mailgun.net/v3/mg.example.org/messages -F to=a@b.c\n",
    t,
)
t = rhex(32)
case("mailgun/new-format", H + f"MAILGUN_API_KEY={t}-{rhex(8)}-{rhex(8)}\n", t)
t = rhex(32)
case(
    "datadog/dd-api-key-header",
    H + f'curl -X POST "https://api.datadoghq.com/api/v1/series" -H "DD-API-KEY: {t}" -d @metrics.json\n',
    t,
)
t = rhex(40)
case(
    "datadog/install-script-env",
    H
    + f'DD_API_KEY={rhex(32)} DD_APP_KEY={t} DD_SITE="datadoghq.eu" bash -c "$(curl -L https://install.datadoghq.com/scripts/install_script_agent7.sh)"\n',
    t,
)
t = "hvs." + rnd(24, URLSAFE)
case("vault/hvs-login", H + f"vault login {t}\n", t)
t = "hvs.CAESI" + rnd(90, URLSAFE)
case(
    "vault/hvs-header",
    H + f'curl -H "X-Vault-Token: {t}" https://vault.example.com:8200/v1/secret/data/app\n',
    t,
)
t = f"{rnd(14)}.atlasv1.{rnd(67)}"
case(
    "terraform/terraformrc-heredoc",
    H + f'cat > ~/.terraformrc <<EOF\ncredentials "app.terraform.io" {{\n  token = "{t}"\n}}\nEOF\n',
    t,
)
t = f"{rnd(14)}.atlasv1.{rnd(67)}"
case("terraform/TF_TOKEN-env", H + f"export TF_TOKEN_app_terraform_io={t}\nterraform init\n", t)

# ---------------- URLs, headers, names
p = human_pw()
case(
    "url/basic-auth-https",
    H + f"curl -fsSL https://admin:{p}@nexus.example.com/repository/raw/app.tgz -o app.tgz\n",
    p,
)
p = rnd(14)
case(
    "url/jdbc-query-password",
    H + f'JDBC_URL="jdbc:mysql://db:3306/app?user=app&password={p}&useSSL=true"\n',
    p,
)
p = rnd(32)
case(
    "url/query-access_token",
    H + f'curl "https://graph.example.com/v12.0/me?fields=id,name&access_token={p}"\n',
    p,
)
p = human_pw()
case("name/DB_PASSWD", H + f"DB_PASSWD={p}\n", p)
p = rnd(12)
case("name/ADMIN_PW", H + f'ADMIN_PW="{p}"\n', p)
p = rnd(20)
case(
    "name/MYSQL_ROOT_PASSWORD-docker-e",
    H + f"docker run -d --name db -e MYSQL_ROOT_PASSWORD={p} mysql:8\n",
    p,
)
p = rnd(24)
case("name/secret=", H + f"secret={p}\n./deploy --env prod\n", p)
p = rhex(32)
case("name/api_key=", H + f"api_key='{p}'\n", p)
p = rnd(32)
case("name/apikey-yaml", H + f"cat > config.yml <<EOF\nservice:\n  apikey: {p}\nEOF\n", p)
p = rhex(128)
case("name/SECRET_KEY_BASE", H + f"export SECRET_KEY_BASE={p}\n", p)
p = rnd(50, ALNUM + "!@#%^*-_")
case("name/DJANGO_SECRET_KEY", H + f"export DJANGO_SECRET_KEY='{p}'\n", p)
p = rhex(32)
case("name/RAILS_MASTER_KEY", H + f"echo {p} > config/master.key\n", p)
p = rnd(16)
case(
    "name/CREDS-array", H + f'CREDS=("admin" "{p}")\nsshpass -p "${{CREDS[1]}}" ssh "${{CREDS[0]}}@host"\n', p
)
p = rnd(16)
case("name/PASSWORDS-array", H + f"PASSWORDS=(\n  '{p}'\n  \"$FALLBACK\"\n)\n", p)
p = rnd(16)
case("name/assoc-array", H + f"declare -A secrets=([db]={p} [cache]=none)\n", p)
p = rnd(16)
case("name/case-branch", H + f"case \"$ENV\" in\n  prod) DB_PASS='{p}' ;;\n  *) DB_PASS=dev ;;\nesac\n", p)
p = rnd(16)
case("name/read-default", H + f'read -rsp "Password [default]: " PASSWORD\nPASSWORD=${{PASSWORD:-{p}}}\n', p)
p = rnd(16)
case("name/colon-default", H + f': "${{DB_PASSWORD:={p}}}"\n', p)
p = rnd(16)
case("name/comment-password", H + f"# password: {p}\nssh admin@10.1.1.1\n", p)
p = rnd(16)
case("name/comment-prose", H + f"# the admin password is {p}, change after first login\n", p)
p = rnd(32, ALNUM)
case(
    "name/lowercase-local",
    H
    + f'deploy() {{\n  local token={p}\n  curl -H "Authorization: Bearer $token" https://api.example.com\n}}\n',
    p,
)
p = rnd(20)
case("name/ngrok-authtoken", H + f"ngrok config add-authtoken {rnd(27)}_{p}\n", p)
c = base64.b64encode(f"svc-build:{rnd(16)}".encode()).decode()
case(
    "auth/basic-header",
    H + f'curl -H "Authorization: Basic {c}" https://artifactory.example.com/api/repositories\n',
    c,
)
c = base64.b64encode(f"admin:{rnd(16)}".encode()).decode()
case(
    "auth/basic-var",
    H + f'AUTH="{c}"\ncurl -H "Authorization: Basic $AUTH" https://registry.example.com/v2/_catalog\n',
    c,
)
c = base64.b64encode(f"ci:{rnd(16)}".encode()).decode()
case(
    "auth/docker-config-json",
    H
    + f'cat > ~/.docker/config.json <<EOF\n{{"auths": {{"registry.example.com": {{"auth": "{c}"}}}}}}\nEOF\n',
    c,
)
p = rnd(40)
case("oauth2-bearer-flag", H + f"curl --oauth2-bearer {p} https://api.example.com/me\n", p)
p = rnd(24)
case(
    "client_secret-form",
    H
    + f"curl -X POST https://login.example.com/oauth/token -d grant_type=client_credentials -d client_id=app -d client_secret={p}\n",
    p,
)
p = "dop_v1_" + rhex(64)
case("digitalocean/doctl", H + f"doctl auth init --access-token {p}\n", p)
p = "hf_" + rnd(34)
case("huggingface/cli-login", H + f"huggingface-cli login --token {p}\n", p)

BENIGN: list[tuple[str, str]] = []


def benign(name: str, script: str) -> None:
    BENIGN.append((name, script.strip("\n") + "\n"))


benign("read -s prompt", 'read -s -p "Password: " PASSWORD\necho')
benign("PASSWORD=$1", 'PASSWORD="$1"')
benign("TOKEN=${GITHUB_TOKEN:?}", 'export TOKEN="${GITHUB_TOKEN:?}"')
benign("git clone https", "git clone https://github.com/torvalds/linux.git --depth 1")
benign("sha256sum -c", f'echo "{rhex(64)}  node-v20.11.0-linux-x64.tar.xz" | sha256sum -c -')
benign("SHA256 var", f'SHA256="{rhex(64)}"\nDOWNLOAD_SHA512={rhex(128)}')
benign("UUID", f'VM_UUID={ruuid()}\nvirsh start "$VM_UUID"')
benign("build id hex", f"BUILD_ID={rhex(40)}\nGIT_COMMIT={rhex(40)}")
benign(
    "base64 non-secret",
    'echo "SGVsbG8sIFdvcmxkIQo=" | base64 -d\nLOGO="iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="',
)
benign("ssh-keygen", 'ssh-keygen -t ed25519 -C "deploy key" -f ~/.ssh/id_ed25519 -N ""')
benign("--password-stdin", 'echo "$CR_PAT" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin')
benign(
    "URL no creds",
    "curl -fsSL https://get.docker.com -o get-docker.sh\nwget -q https://releases.hashicorp.com/terraform/1.7.0/terraform_1.7.0_linux_amd64.zip",
)
benign("openssl rand", 'SECRET=$(openssl rand -hex 32)\nexport JWT_SECRET="$(openssl rand -base64 48)"')
benign("secret from file", "API_KEY=$(cat /run/secrets/api_key)\nDB_PASSWORD_FILE=/run/secrets/db_password")
benign(
    "gpg recv-keys",
    "gpg --keyserver hkps://keyserver.ubuntu.com --recv-keys 7EA0A9C3F273FCD8\nGPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4",
)
benign("docker run -p", "docker run -d -p 8080:80 --user 1000:1000 nginx:1.25")
benign("mkdir -p / mysql -p prompt", "mkdir -p /var/lib/app\nmysql -u root -p appdb < schema.sql")
benign(
    "auth header expansion",
    'curl -H "Authorization: Bearer $TOKEN" https://api.example.com\ncurl -u "$USER:$PASS" https://example.com',
)
benign(
    "ssh public key",
    "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci' >> ~/.ssh/authorized_keys",
)
benign("image digest", f'IMAGE=nginx@sha256:{rhex(64)}\ndocker pull "$IMAGE"')
benign("password compare", 'if [ -z "$password" ]; then echo "Enter your API key:"; read -r api_key; fi')
benign("pass show", "GITHUB_TOKEN=$(pass show github/token)")
benign(
    "vault addr",
    'export VAULT_ADDR=https://vault.example.com:8200\ntoken_url="https://oauth2.googleapis.com/token"',
)
benign("PASSWORD_LENGTH", "PASSWORD_LENGTH=32\nTOKEN_TTL=3600\nKEY_SIZE=4096")
benign("kubectl jsonpath", "kubectl get secret db -o jsonpath='{.data.password}' | base64 -d")
benign(
    "local key loop", 'for key in "${!map[@]}"; do\n  local key_name="$key"\n  echo "$key=${map[$key]}"\ndone'
)
benign(
    "openssl req",
    "openssl req -x509 -newkey rsa:4096 -keyout key.pem -out cert.pem -days 365 -nodes -subj '/CN=localhost'",
)
benign(
    "apt signed-by",
    'echo "deb [signed-by=/usr/share/keyrings/docker.gpg] https://download.docker.com/linux/ubuntu jammy stable" | sudo tee /etc/apt/sources.list.d/docker.list',
)
benign(
    "getopts password flag",
    'while getopts "u:p:" opt; do\n  case $opt in\n    u) USER="$OPTARG" ;;\n    p) PASSWORD="$OPTARG" ;;\n  esac\ndone',
)
benign(
    "case --password",
    'case "$1" in\n  -p|--password) PASSWORD="$2"; shift 2 ;;\n  --token-file) TOKEN_FILE="$2"; shift 2 ;;\nesac',
)
benign("sudo -u postgres", 'sudo -u postgres psql -c "CREATE DATABASE app;"')
benign("git log format", "git log --pretty=format:'%H %an %s' -n 5")
benign("ssh git remote", "git remote add origin git@github.com:acme/app.git")
benign("mktemp XXXX", "TMP=$(mktemp -d /tmp/build.XXXXXXXX)\ntrap 'rm -rf \"$TMP\"' EXIT")
benign("md5 in test", f'[ "$(md5sum < file | cut -d" " -f1)" = "{rhex(32)}" ] || exit 1')
benign("systemd unit", "systemctl enable --now getty@tty1.service\nsystemctl restart sshd")
benign("npm registry", "npm config set registry https://registry.npmjs.org/\nnpm ci --no-audit")
benign("aws profile", "export AWS_PROFILE=default\naws sts get-caller-identity --query Account --output text")
benign("env default", 'DB_HOST="${DB_HOST:-localhost}"\nDB_USER="${DB_USER:-postgres}"')
benign("password policy var", 'MIN_PASSWORD_LEN=12\npassword_hash_algo="sha512"')
benign(
    "curl with api version header",
    'curl -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28" https://api.github.com/repos/acme/app',
)
benign(
    "keyring path",
    'KEYRING=/usr/share/keyrings/kubernetes-apt-keyring.gpg\ncurl -fsSL https://pkgs.k8s.io/core:/stable:/v1.29/deb/Release.key | sudo gpg --dearmor -o "$KEYRING"',
)


# harder benign lines: secret-sounding names with non-secret values, code that looks like credentials
benign("counters PASS/FAIL", "PASS=0\nFAIL=0\nPASSED_TESTS=12\n(( PASS++ ))")
benign(
    "key file paths",
    'SSH_KEY=~/.ssh/id_rsa\nPRIVATE_KEY_PATH=/etc/ssl/private/server.key\nssh -i "$SSH_KEY" deploy@host',
)
benign("getent passwd", "getent passwd \"$USER\" | cut -d: -f6\nawk -F: '$3 >= 1000 {print $1}' /etc/passwd")
benign("passwd -l", "passwd -l root\nusermod -aG docker deploy")
benign(
    "sshd config", "sed -i 's/^#\\?PasswordAuthentication .*/PasswordAuthentication no/' /etc/ssh/sshd_config"
)
benign(
    "api-key from env flag",
    'terraform apply -var "api_key=$API_KEY" -auto-approve\ncurl --api-key "$KEY" https://x.example.com',
)
benign("token_type/auth method", "token_type=bearer\nAUTH_METHOD=oauth\nsecret_name=db-creds")
benign(
    "yaml expansions",
    'cat > app.yml <<EOF\ndb:\n  password: ${DB_PASSWORD}\n  token: "{{ vault_token }}"\nEOF',
)
benign("sed clear password", "sed -i 's/^password=.*/password=/' config.ini")
benign(
    "openssl genpkey",
    "openssl genpkey -algorithm RSA -out key.pem -pkeyopt rsa_keygen_bits:4096\nopenssl rsa -in key.pem -pubout -out pub.pem",
)
benign("git checkout commit", f"git checkout {rhex(40)}\ngit cherry-pick {rhex(12)}")
benign(
    "docker build-arg",
    "docker build --build-arg VERSION=1.4.2 --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t app:1.4.2 .",
)
benign("apt noninteractive", "APT_KEY_DONT_WARN_ON_DANGEROUS_USAGE=1\nexport DEBIAN_FRONTEND=noninteractive")
benign("secret from kubectl", 'secret=$(kubectl get secret app -o jsonpath="{.data.token}" | base64 -d)')
benign("token default empty", 'TOKEN=${1:-}\nKEY="${2:-default}"')
benign("bash array of keys", 'KEYS=(up down left right)\nfor k in "${KEYS[@]}"; do bind "$k"; done')
benign(
    "long base64 asset",
    f'ICON_B64="{base64.b64encode(bytes(range(60))).decode()}"\necho "$ICON_B64" | base64 -d > icon.bin',
)
benign("random alnum id", f"RUN_ID={rnd(20)}\nREQUEST_ID=req_{rnd(24)}")
benign("mysql -p with db", "mysql -h db -u app -p appdb -e 'select 1'")
benign("sha1 of tarball", f'echo "{rhex(40)}  go1.22.0.linux-amd64.tar.gz" | sha1sum --check')
benign("ssh-copy-id", "ssh-copy-id -i ~/.ssh/id_ed25519.pub admin@192.168.1.10")
benign(
    "curl header content-type",
    'curl -sS -H "Content-Type: application/json" -H "Accept: */*" -d \'{"name":"app"}\' https://api.example.com/v1/apps',
)


def pieces(secret: str) -> list[str]:
    if len(secret) < 12:
        return [secret]
    return [secret[i : i + 12] for i in range(len(secret) - 11)]


def survivors(out: str, secrets: list[str]) -> list[tuple[str, str]]:
    """(secret, surviving piece) for every secret of which some piece is still in `out`."""
    found = []
    for s in secrets:
        hit = next((p for p in pieces(s) if p in out), None)
        if hit is not None:
            found.append((s, hit))
    return found


def lines_with(text: str, piece: str) -> list[str]:
    return [ln for ln in text.splitlines() if piece in ln]


def main() -> None:
    results = {"planted": [], "benign": []}
    for kind, script, secrets in CASES:
        res = scrub(script)
        surv = survivors(res.text, secrets)
        for s in secrets:  # sanity: every secret (some piece of it) is in the input
            assert survivors(script, [s]), (kind, s)
        results["planted"].append(
            {
                "kind": kind,
                "caught": not surv,
                "counts": dict(res.counts),
                "survivors": [
                    {
                        "secret": s,
                        "piece": piece,
                        "in_lines": [ln for ln in script.splitlines() if any(p in ln for p in pieces(s))],
                        "out_lines": lines_with(res.text, piece),
                    }
                    for s, piece in surv
                ],
                "input": script,
                "output": res.text,
            }
        )
    for name, script in BENIGN:
        res = scrub(script)
        changed = [(a, b) for a, b in zip(script.splitlines(), res.text.splitlines(), strict=False) if a != b]
        if len(script.splitlines()) != len(res.text.splitlines()):
            changed.append(("<line count>", f"{len(script.splitlines())} -> {len(res.text.splitlines())}"))
        results["benign"].append(
            {"name": name, "changed": changed, "counts": dict(res.counts), "input": script}
        )
    planted = results["planted"]
    caught = sum(r["caught"] for r in planted)
    kinds = len({r["kind"] for r in planted})
    print(
        f"planted cases: {len(planted)} ({kinds} distinct kinds/placements); caught {caught}; recall {caught / len(planted):.3f}"
    )
    for r in planted:
        if not r["caught"]:
            for s in r["survivors"]:
                print(f"MISS {r['kind']}: piece {s['piece']!r}")
                for ln in s["in_lines"]:
                    print("   in : " + ln)
                for ln in s["out_lines"]:
                    print("   out: " + ln)
    fp = [b for b in results["benign"] if b["changed"]]
    print(f"benign scripts: {len(results['benign'])}; changed: {len(fp)}")
    for b in fp:
        for a, c in b["changed"]:
            print(f"FP {b['name']}:\n   in : {a}\n   out: {c}")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
