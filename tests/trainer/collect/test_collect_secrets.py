"""Credentials never reach the corpus: 30 planted secrets of 25 kinds, none may survive a scrub."""

from __future__ import annotations

import pytest

from bashcoder.trainer.collect.secrets import scrub

# Built from pieces so that this file itself never holds a real-looking token
# for secret scanners to flag.
GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GH_FINE = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
GITLAB = "glpat-" + "xY9zW8vU7tS6rQ5pO4nM"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_HOOK = "https://hooks.slack.com/services/" + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
AWS_ID = "AKIA" + "Z7Q2RT4W9XK3LM5N"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzq8Ku2Lm9Pq"
GOOGLE = "AIza" + "SyD-1234567890abcdefghijklmnopqrstu"
STRIPE = "sk_live_" + "51H8xYzAbCdEfGhIjKlMnOpQr"
OPENAI = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PYPI = "pypi-AgEIcHlwaS5vcmc" + "CJDk0ZjI5NzNjLTAwZGQtNGY5Yi1hYjQ0LTg3ZTcxNzQ2MTI3NQ"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
SENDGRID = "SG." + "abcdefghijklmnopqrstuv" + "." + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
VAULT = "hvs." + "CAESIJlWh3kYzAbCdEfGhIjKlMnOpQrS"
DOCKER = "dckr_pat_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9"
DIGITALOCEAN = "dop_v1_" + "0123456789abcdef" * 4
TELEGRAM = "123456789:" + "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
PEM_BODY = (
    "MIIEowIBAAKCAQEA1x9Z8kq3PlantedRsaKeyBodyLine0001\nAbCdEfGhIjKlMnOpQrStUvWxYz0123456789PlantedLine2"
)
OPENSSH_BODY = (
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQPlanted0\nAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBPlantedOpenSshLine"
)
URL_PASS = "Tr0ub4dor-and-3"
CURL_PASS = "c0rrect-h0rse"
CURL_PASS2 = "B4tt3ry-Stapl3"
DB_PASS = "s3cr3t-db-pw!"
API_TOKEN = "tok_9f8e7d6c5b4a"
CLIENT_SECRET = "cs-4242-abcd-9999"
MYSQL_PASS = "MyR00tPw"
SSHPASS_PASS = "sshp4ss-word"
BEARER = "abc123def456ghi789"
YAML_PASS = "yamlSecret99"
EMAIL = "jane.doe@corp-mail.net"
EMAIL2 = "ops+alerts@company.io"

PLANTED = {
    "github-token": GH,
    "github-fine-grained": GH_FINE,
    "gitlab-token": GITLAB,
    "slack-token": SLACK,
    "slack-webhook": SLACK_HOOK,
    "aws-access-key-id": AWS_ID,
    "aws-secret-access-key": AWS_SECRET,
    "google-api-key": GOOGLE,
    "stripe-key": STRIPE,
    "openai-key": OPENAI,
    "npm-token": NPM,
    "pypi-token": PYPI,
    "jwt": JWT,
    "sendgrid-key": SENDGRID,
    "vault-token": VAULT,
    "dockerhub-token": DOCKER,
    "digitalocean-token": DIGITALOCEAN,
    "telegram-bot-token": TELEGRAM,
    "rsa-private-key": PEM_BODY,
    "openssh-private-key": OPENSSH_BODY,
    "url-password": URL_PASS,
    "curl-u": CURL_PASS,
    "curl-user": CURL_PASS2,
    "password-assignment": DB_PASS,
    "token-assignment": API_TOKEN,
    "secret-assignment": CLIENT_SECRET,
    "mysql-p": MYSQL_PASS,
    "sshpass": SSHPASS_PASS,
    "bearer-header": BEARER,
    "yaml-password": YAML_PASS,
    "email": EMAIL,
    "email-plus": EMAIL2,
}

SCRIPT = (
    "\n".join(
        [
            "#!/usr/bin/env bash",
            f"# Maintainer: Jane Doe <{EMAIL}>",
            "set -euo pipefail",
            f"export GITHUB_TOKEN={GH}",
            f'GH_PAT="{GH_FINE}"',
            f'git clone "https://oauth2:{GITLAB}@gitlab.com/team/repo.git"',
            f"SLACK_BOT={SLACK}",
            f'curl -X POST -d \'{{"text":"done"}}\' {SLACK_HOOK}',
            f"export AWS_ACCESS_KEY_ID={AWS_ID}",
            f'export AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"',
            f'curl "https://maps.googleapis.com/maps/api/geocode/json?key={GOOGLE}"',
            f"stripe_key='{STRIPE}'",
            f"OPENAI_API_KEY={OPENAI}",
            f'echo "//registry.npmjs.org/:_authToken={NPM}" > ~/.npmrc',
            f"twine upload -u __token__ -p {PYPI} dist/*",
            f'curl -H "X-Session: {JWT}" https://api.internal/',
            f"SENDGRID={SENDGRID}",
            f"VAULT_TOKEN={VAULT}",
            f"echo {DOCKER} | docker login -u bot --password-stdin",
            f"doctl auth init -t {DIGITALOCEAN}",
            f'curl "https://api.telegram.org/bot{TELEGRAM}/sendMessage"',
            "cat > id_rsa <<'EOF'",
            "-----BEGIN RSA PRIVATE KEY-----",
            f"{PEM_BODY}",
            "-----END RSA PRIVATE KEY-----",
            "EOF",
            "cat > id_ed25519 <<'EOF'",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            f"{OPENSSH_BODY}",
            "-----END OPENSSH PRIVATE KEY-----",
            "EOF",
            f"git clone https://deploy:{URL_PASS}@git.corp.example/app.git",
            f"curl -u admin:{CURL_PASS} https://ci.corp/api/json",
            f'curl --user "robot:{CURL_PASS2}" -fsS https://nexus.corp/repo',
            f"DB_PASSWORD='{DB_PASS}'",
            f'local API_TOKEN="{API_TOKEN}"',
            f"readonly CLIENT_SECRET={CLIENT_SECRET}",
            f"mysql -u root -p{MYSQL_PASS} -e 'show databases'",
            f"sshpass -p '{SSHPASS_PASS}' ssh backup@nas",
            f'curl -H "Authorization: Bearer {BEARER}" https://api.corp/v1/items',
            "cat > config.yml <<EOF",
            "database:",
            f'  password: "{YAML_PASS}"',
            "EOF",
            f"mail -s report {EMAIL2} < report.txt",
        ]
    )
    + "\n"
)


def test_at_least_twenty_kinds_are_planted() -> None:
    assert len(PLANTED) >= 20
    for value in PLANTED.values():
        assert value.split("\n")[0] in SCRIPT


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_no_planted_secret_survives(kind: str) -> None:
    out = scrub(SCRIPT).text
    for line in PLANTED[kind].split("\n"):
        assert line not in out, f"{kind} survived"


def test_scrubbing_keeps_the_code_around_secrets() -> None:
    out = scrub(SCRIPT).text
    assert out.startswith("#!/usr/bin/env bash\n")
    assert "export GITHUB_TOKEN=REDACTED_GITHUB_TOKEN" in out
    assert "DB_PASSWORD='REDACTED_SECRET'" in out
    assert "curl -u admin:REDACTED_PASSWORD https://ci.corp/api/json" in out
    assert "git clone https://deploy:REDACTED_PASSWORD@git.corp.example/app.git" in out
    assert "mysql -u root -pREDACTED_PASSWORD -e 'show databases'" in out
    assert "REDACTED_PRIVATE_KEY" in out and "cat > id_rsa <<'EOF'" in out
    assert "<user@example.com>" in out
    assert out.count("\n") <= SCRIPT.count("\n")


def test_counts_by_kind() -> None:
    counts = scrub(SCRIPT).counts
    assert counts["private-key"] == 2
    assert counts["email"] == 2
    assert counts["github-token"] == 2
    assert sum(counts.values()) >= 25


def test_scrub_is_idempotent() -> None:
    once = scrub(SCRIPT)
    twice = scrub(once.text)
    assert twice.text == once.text
    assert sum(twice.counts.values()) == 0


@pytest.mark.parametrize(
    "line",
    [
        'PASSWORD="$1"',
        "TOKEN=${GITHUB_TOKEN:-}",
        "SECRET=$(pass show deploy/secret)",
        'API_KEY="$(cat ~/.key)"',
        'if [ "$PASSWORD" = "abc" ]; then :; fi',
        "read -rs -p 'Password: ' password",
        'PW="/etc/shadow"',
        "token=substr($0, start, RLENGTH)",
        "echo --password PASSWORD  set the password",
        "WRAPPING_PASS=LOGIN",
        "docker run --user 1000:1000 image",
        "git clone git@github.com:owner/repo.git",
        "git clone https://$USER:$TOKEN@github.com/x/y.git",
        "systemctl restart getty@tty1.service wg-quick@wg0.service",
        "cp icon@2x.png /srv/",
        'for arg in "$@"; do echo "${arr[@]}"; done',
        "ssh user@host:/srv/app",
        "echo user@example.com",
        'macs="hmac-sha2-256 umac-64@openssh.com"; kex=curve25519-sha256@libssh.org',
        "find $dir -group mysql -print0 | xargs -0 chown mysql",
        "PASSWORD_FILE=/run/secrets/db",
    ],
)
def test_code_that_only_mentions_secrets_is_left_alone(line: str) -> None:
    scrubbed = scrub(f"#!/bin/bash\n{line}\n")
    assert scrubbed.text == f"#!/bin/bash\n{line}\n"
    assert not scrubbed.counts


def test_unterminated_private_key_block_is_still_removed() -> None:
    text = f"#!/bin/sh\ncat <<EOF\n-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n"
    out = scrub(text).text
    assert PEM_BODY.split("\n")[0] not in out and PEM_BODY.split("\n")[1] not in out
