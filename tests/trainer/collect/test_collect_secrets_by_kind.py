"""Issue 15: each kind of credential and personal address the scrubber missed, and the code it must keep.

Every secret below is made up. The shapes come from what peer tools' users
reported and from the false positives found by scrubbing the real corpus
(bench/scrub_corpus.py): ports, expansions, checksums and commits stay.
"""

from __future__ import annotations

import pytest

from bashcoder.trainer.collect.secrets import scrub

# Built from pieces so that this file itself never holds a real-looking token.
RANDOM_B64 = "q7ZmK2xR9vLp4NwT" + "8bYc3HsJ6dFgA1eUoW5iCnQk"
ARTIFACTORY = "AKCp8" + "jQ9rT2vX4zB6nD8fH1kM3pR5tW7yA9cE2gJ4lN6qS8uV1xZ3bF5hK7mP9sU2wY4"
MAILCHIMP = "9c2f8e1a7b3d6054" + "f1e9a8c7b2d4e6f0" + "-us12"
SQUARE = "sq0csp-" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9d"


def scrubbed_line(line: str) -> tuple[str, dict[str, int]]:
    out = scrub(f"#!/bin/bash\n{line}\n")
    assert scrub(out.text).text == out.text, "a second scrub changed the text"
    return out.text.split("\n")[1], dict(out.counts)


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        ("export MYSQL_PWD=Xk9fLq2wZ", "Xk9fLq2wZ", "export MYSQL_PWD="),
        ("redis-cli -h cache -a Rz8sP3qWm0 ping", "Rz8sP3qWm0", "redis-cli -h cache -a "),
        ("openssl rsa -in key.pem -passin pass:Hq7Tz2Lm -out plain.pem", "Hq7Tz2Lm", "-passin pass:"),
        ("smbclient //nas/share -U admin%Sm8bPw1x -c ls", "Sm8bPw1x", "-U admin%"),
        (
            "htpasswd -b /etc/nginx/.htpasswd alice Ht9pWq3z",
            "Ht9pWq3z",
            "htpasswd -b /etc/nginx/.htpasswd alice ",
        ),
    ],
)
def test_the_shapes_reported_in_issue_15_never_reach_the_corpus(line: str, secret: str, kept: str) -> None:
    out, counts = scrubbed_line(line)
    assert secret not in out and kept in out and "REDACTED_" in out
    assert sum(counts.values()) == 1


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("mongosh admin -u root -p Mg0pW9xq --eval 'db.stats()'", "Mg0pW9xq"),
        ("redis-cli --pass 'Rd1sPw55' info", "Rd1sPw55"),
        ("sudo -u redis redis-cli -a Rz8sP3qWm0 ping", "Rz8sP3qWm0"),
        ("mysqladmin -u root password NewR00tPw", "NewR00tPw"),
        ("x=$(mysql -uroot -pS3cr3tX -e 'select 1')", "S3cr3tX"),
        ("ldapsearch -x -D cn=admin,dc=corp -w Ld4pPw9x -b dc=corp", "Ld4pPw9x"),
        ("zip -P Zp4sWq9 out.zip notes.txt", "Zp4sWq9"),
        ("7z a -pSz7pW3x backup.7z ~/docs", "Sz7pW3x"),
        ("docker login -u bot -p D0ckPw99 registry.corp", "D0ckPw99"),
        ("ipmitool -I lanplus -H bmc -U admin -P Ipm1Pw77 power status", "Ipm1Pw77"),
        ("keytool -list -keystore app.jks -storepass St0reP4ss", "St0reP4ss"),
        ("xfreerdp /v:host /u:bob /p:Rd9pWq2 /cert:ignore", "Rd9pWq2"),
        ("openssl enc -aes-256-cbc -pass 'pass:Hq7Tz2Lm' -in a -out b", "Hq7Tz2Lm"),
        ("rpcclient -U 'admin%Sm8bPw1x' -c enumdomusers dc1", "Sm8bPw1x"),
        ("lftp -u bob,Lf7tPw2x -e 'mirror' ftp.corp", "Lf7tPw2x"),
        ("htpasswd -nbB alice Ht9pWq3z > users", "Ht9pWq3z"),
        ("sqlplus -s scott/T1ger99@orcl @report.sql", "T1ger99"),
        ("nmcli dev wifi connect HomeNet password Nm9cliPw1", "Nm9cliPw1"),
        ("wpa_passphrase HomeNet Wp4Pass99x >> /etc/wpa.conf", "Wp4Pass99x"),
        ("mount -t cifs -o username=bob,password=Mn7tPw3x //nas/s /mnt", "Mn7tPw3x"),
        ("curl -d 'user=bob&password=Fm9Pw2x' https://corp/login", "Fm9Pw2x"),
        ("influx -username admin -password Infl0xPw -execute 'show databases'", "Infl0xPw"),
        ("# timeout 10 sshpass -p Ss6hPw2x ssh backup@nas", "Ss6hPw2x"),
        ("some-tool --passwd Ps9wdX2 --verbose", "Ps9wdX2"),
    ],
)
def test_password_options_of_common_tools_are_scrubbed(line: str, secret: str) -> None:
    out, counts = scrubbed_line(line)
    assert secret not in out and "REDACTED_" in out
    assert sum(counts.values()) == 1


@pytest.mark.parametrize(
    "name",
    [
        "MYSQL_PWD",
        "ADMIN_PWD",
        "PASSWORD",
        "password",
        "DB_PASS",
        "SMTP_PASSWORD_PROD",
        "ldap_passwd",
        "DEPLOY_SECRET",
        "CLIENT_SECRET_B64",
        "JWT_SECRET_KEY",
        "TOKEN",
        "SLACK_TOKEN_OPS",
        "STRIPE_KEY",
        "ENCRYPTION_KEY",
        "apiKey",
    ],
)
@pytest.mark.parametrize("form", ["{}=Pg5wRd9x", "export {}='Pg5wRd9x'", 'local {}="Pg5wRd9x"'])
def test_variables_named_like_secrets_are_scrubbed(name: str, form: str) -> None:
    out, counts = scrubbed_line(form.format(name))
    assert "Pg5wRd9x" not in out and name in out
    assert counts == {"secret-assignment": 1}


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ('password="correct horse battery staple 42"', "password="),
        ("export DB_PASSWORD='my cat likes tuna'", "export DB_PASSWORD="),
        ('PASSPHRASE="blue Sky 4 ever"', "PASSPHRASE="),
    ],
)
def test_a_passphrase_of_several_words_is_scrubbed(line: str, kept: str) -> None:
    out, counts = scrubbed_line(line)
    assert out.startswith(kept) and "REDACTED" in out and line.split("=", 1)[1][1:4] not in out
    assert counts == {"secret-assignment": 1}


@pytest.mark.parametrize(
    "line",
    [
        "docker run -p 8080:80 nginx",
        "redis-cli -h cache -p 6379 ping",
        "ssh -p 2222 admin@bastion",
        "mkdir -p /srv/app && read -r -p 'Password: ' pw",
        "mysql -u root -p appdb < dump.sql",
        "htpasswd -B /etc/nginx/.htpasswd alice",
        'htpasswd -b .htpasswd "$user" "$pass"',
        'smbclient -U "$USER%$PASS" //nas/share',
        "openssl rsa -passin env:KEY_PASS -in k.pem",
        "openssl rsa -passin file:/run/secrets/pw -in k.pem",
        "sqlplus / as sysdba",
        'sqlplus -s "$DB_USER/$DB_PASS@$DB" @x.sql',
        "rar a -p- out.rar dir",
        "zip -r out.zip dir",
        "PWD=/tmp/build OLDPWD=/home",
        "pwd=`pwd`; top_pwd=$(pwd)",
        "SECRET_NAME=db-credentials",
        "TOKEN_URL=https://auth.corp/oauth/token",
        "PASSWORD_LENGTH=32",
        "GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4",
        "SORT_KEY=name",
        "var_password_hashing_algorithm_pam=sha512",
        '"secretName": "router-certs-default",',
        'md5="61d7b79fd714888b6d65944fdaafa94a"',
        'TERMUX_PKG_SHA256="dc61192cf7b8286d42c44abae6cf594ee52eafc08bfad0bea9d434b73dd593f4"',
        'JPEGLI_COMMIT="031a0077f5799a6041004267fc12b956c1f52a20"',
        "0) printf '%s\\n' \"H4sIAL3qBE4CAyWLwQ3AMAgD/0xh5UPzYiFUMgjq7LUJsk7yIQNAQTAikFUDnqkr\" \\",
        'STANDARD_B64="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="',
        'if [ "$PASSWORD" = "$CONFIRM" ]; then :; fi',
        "curl -H 'Authorization: Bearer $TOKEN' https://api.corp/",
        "alias pass=passgen",
        'default_save_key="C-s"; geo_key="Region"',
        "readonly START_FLINK_YARN_SESSION_METADATA_KEY='flink-start-yarn-session'",
        "REPOSITORY_KEY=95C0FAF38DB3CCAD0C080A7BDC78B2DDEABC47B7",
        "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd",
        "sed -i 's|ENCRYPTION_KEY=.*|ENCRYPTION_KEY='\"$ENCRYPTION_KEY\"'|g' compose.yml",
        "patator ftp_login host=ip user=FILE0 password=FILE1 0=users.txt",
        'hydra -l admin -P words.txt host http-post-form "/login:username=^USER^&password=^PASS^:F=failed"',
        "add_config 'secrets.patterns' 'bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t'",
        # Messages and commands under password-like names (from the corpus) are not passphrases.
        'password_prompt="Enter password to unlock disk"',
        "msg_new_passwd_prompt='Nouveau mot de passe'",
        'PASSWORD="Enter your password:"',
        "cat_passwd='getent passwd'",
        'passwd_group_shadow_files="etc/passwd etc/group etc/shadow"',
        'local pass="$1 $2"',
    ],
)
def test_code_that_looks_like_a_credential_is_left_alone(line: str) -> None:
    out, counts = scrubbed_line(line)
    assert (out, counts) == (line, {})


def test_key_formats_only_detect_secrets_knows_are_scrubbed_under_its_kinds() -> None:
    # Given as bare arguments, where no bash rule sees a secret name.
    text = f"#!/bin/bash\nmc_sync weekly {MAILCHIMP}\nsquare_login {SQUARE} && jf_setup {ARTIFACTORY}\n"
    out = scrub(text)
    for secret in (MAILCHIMP, SQUARE, ARTIFACTORY):
        assert secret not in out.text
    assert out.text.startswith("#!/bin/bash\nmc_sync weekly REDACTED_")
    assert out.counts == {"mailchimp-access-key": 1, "square-oauth-secret": 1, "artifactory-credentials": 1}


def test_literals_assigned_or_compared_to_secret_names_are_scrubbed_by_the_keyword_plugin() -> None:
    text = (
        "#!/bin/bash\n"
        'if [ "$ADMIN_PASSWORD" != "Sup3rS3cret" ]; then exit 1; fi\n'
        "cat > influx.json <<EOF\n"
        '{"influxDBPassword": "r00tPw99", "secretName": "influx"}\n'
        "EOF\n"
    )
    out = scrub(text)
    assert "Sup3rS3cret" not in out.text and "r00tPw99" not in out.text
    assert '"secretName": "influx"' in out.text and '"$ADMIN_PASSWORD" != "' in out.text
    assert out.counts["secret-keyword"] == 2


def test_a_random_string_where_a_secret_goes_is_scrubbed_by_the_entropy_plugin() -> None:
    # A here-string to --passphrase-fd: no bash rule knows it, the line mentions a secret.
    line = f'gpg --batch --passphrase-fd 3 3<<<"{RANDOM_B64}" -d secret.gpg'
    out, counts = scrubbed_line(line)
    assert RANDOM_B64 not in out and "gpg --batch --passphrase-fd 3 3<<<" in out
    assert counts == {"base64-high-entropy-string": 1}


@pytest.mark.parametrize(
    "address",
    [
        "jane.doe@corp-mail.net",
        "john.smith@gmail.com",
        "ops+alerts@company.io",
        "12345+jdoe@users.noreply.github.com",
        "Jane.Doe@Mail.Example-Corp.co.uk",
    ],
)
def test_personal_addresses_are_replaced(address: str) -> None:
    out, counts = scrubbed_line(f'git config user.email "{address}"  # maintainer: Jane <{address}>')
    assert address not in out and out.count("user@example.com") == 2
    assert counts == {"email": 2}


@pytest.mark.parametrize(
    "address",
    [
        "root@localhost",
        "postmaster@localhost.localdomain",
        "user@example.com",
        "admin@example.org",
        "you@yourdomain.com",
        "me@mydomain.org",
        "name@domain.tld",
        "foo@bar.com",
        "nobody@invalid",
        "dev@printer.local",
    ],
)
def test_generic_addresses_are_kept(address: str) -> None:
    assert scrubbed_line(f"echo {address}") == (f"echo {address}", {})


# Kinds a planted-secret sweep found passing (a helper's 122 plantings: recall 71% -> 95%).
TF_TOKEN = (
    "z9UYowv5o4uZa6" + ".atlasv1." + "eD4qtVkfaiNFDjKAUzaIWWpMnFQXSTwGv118phKlslcv69t3ifwRCB7mo1gL46iwCZM"
)
BASIC = "YWRtaW46ZHR3T3VJRXJ4Q3FqNTh0eg=="  # base64 of admin:dtwOuIErxCqj58tz


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("aws configure set aws_secret_access_key HrlEOS47WgjKCu/0xxKhg5QjWV1mKaUyvBPs0jSO", "HrlEOS47Wgj"),
        (
            'echo "TBC4COdAkStvrAj2" | docker login -u deploy --password-stdin registry.corp',
            "TBC4COdAkStvrAj2",
        ),
        ("echo 'Sd0Pw9xQ' | sudo -S apt-get update", "Sd0Pw9xQ"),
        ('echo -e "N7CxfTCGAp69RMkj\\nN7CxfTCGAp69RMkj" | passwd deploy', "N7CxfTCGAp69RMkj"),
        ("openssl enc -aes-256-cbc -in b.tar -out b.tar.enc -k B1tMtw1E3BDBgZlg", "B1tMtw1E3BDBgZlg"),
        ("ssh-keygen -t ed25519 -f ~/.ssh/deploy -N 'TcQaoBjtfEZz1zYd' -C deploy", "TcQaoBjtfEZz1zYd"),
        ("rabbitmqctl add_user admin ryYZ4Wg1kkIkce", "ryYZ4Wg1kkIkce"),
        ("az login --service-principal -u app -p 'C5qvbDUxdpZYVlYb' --tenant corp", "C5qvbDUxdpZYVlYb"),
        (
            "az storage blob upload --account-name st --account-key FVnfG30soxTY4RsH9aOK== -f a",
            "FVnfG30soxTY4RsH",
        ),
        ("wp config set DB_PASSWORD 'altICbuDMloyH2' --allow-root", "altICbuDMloyH2"),
        ("npm config set //registry.npmjs.org/:_authToken Np8tKn3wQ2", "Np8tKn3wQ2"),
        ("git config --global user.password Gt5cPw8z", "Gt5cPw8z"),
        ("ngrok config add-authtoken 3k8Cj0ndoTMuyIEcyDlV8uxCz5u", "3k8Cj0ndoTMuyIEcyDlV8uxCz5u"),
        ("curl --oauth2-bearer ZmdxVeBq4tmu0NMhNQuR https://api.corp/me", "ZmdxVeBq4tmu0NMhNQuR"),
        ("curl -u admin:'Shadowmonkey8400*' https://ci.corp/api/json", "Shadowmonkey8400"),
        ("sed -i 's/__DB_PASSWORD__/FdOk4ggXaegWlK/' /etc/app/config.php", "FdOk4ggXaegWlK"),
        ("sed -i 's/^password=.*/password=Hn2Sd8Pq/' app.ini", "Hn2Sd8Pq"),
        ("mysql -uroot -e \"CREATE USER 'app'@'%' IDENTIFIED BY 'oXnco1tc6x3Ohk';\"", "oXnco1tc6x3Ohk"),
        (
            "sudo -u postgres psql -c \"ALTER USER postgres WITH PASSWORD 'T8hw30dL6Js61d';\"",
            "T8hw30dL6Js61d",
        ),
        ('echo "db.internal:5432:appdb:app:Xpks48f7hls0QKhp" > ~/.pgpass', "Xpks48f7hls0QKhp"),
        ("export REDIS_URL=redis://:kcgvlqsP18bSyT19@redis.internal:6379/0", "kcgvlqsP18bSyT19"),
        (
            "helm upgrade db bitnami/postgresql --set auth.postgresPassword=Yp1S5Oo14Z,auth.database=app",
            "Yp1S5Oo14Z",
        ),
        (f"export TF_TOKEN_app_terraform_io={TF_TOKEN}", "eD4qtVkfaiNFDjKAUza"),
        ("export SECRET_KEY_BASE=730b2662a81f9ee872172dcce4bbf5b4d287659214", "730b2662a81f9ee87"),
        ('CREDS=("admin" "dvhYGqf3RRweynhr")', "dvhYGqf3RRweynhr"),
        ("declare -A secrets=([db]=ogowbrd5TEvOX5WC [cache]=none)", "ogowbrd5TEvOX5WC"),
        ("PASSWORD=${PASSWORD:-54JHzr9GeFOtNJnH}", "54JHzr9GeFOtNJnH"),
        (': "${DB_PASSWORD:=D10yO2r87FEXFZI7}"', "D10yO2r87FEXFZI7"),
        ("# password: YG8AjZblX7dXEhck", "YG8AjZblX7dXEhck"),
        ("  password ba4886c3-89fe-4f59-92b8-3ad3827f9c2e", "ba4886c3-89fe"),
        (f'AUTH="{BASIC}"', BASIC),
        (f'{{"auths": {{"registry.corp": {{"auth": "{BASIC}"}}}}}}', BASIC),
    ],
)
def test_secrets_in_the_long_tail_of_shapes_are_scrubbed(line: str, secret: str) -> None:
    out, counts = scrubbed_line(line)
    assert secret not in out and "REDACTED_" in out, out
    assert sum(counts.values()) >= 1


def test_a_tool_password_on_a_continuation_line_is_scrubbed() -> None:
    text = "#!/bin/bash\nmysqldump -u root \\\n  -p8yxXs4ZBVkakQt \\\n  appdb > dump.sql\n"
    out = scrub(text)
    assert "8yxXs4ZBVkakQt" not in out.text and "appdb > dump.sql" in out.text
    assert scrub(out.text).text == out.text


@pytest.mark.parametrize(
    "line",
    [
        "sed -i 's/^password=.*/password=/' config.ini",
        'sed -i "s/__DB_PASSWORD__/$DB_PASSWORD/" /etc/app/config.php',
        "sed -e 's/token=\\(.*\\)/\\1/' file",
        'echo "$PW" | docker login -u bot --password-stdin registry.corp',
        'echo "$line" | passwd --stdin "$user"',
        "echo 'deb http://deb.debian.org/debian stable main' | sudo tee /etc/apt/sources.list",
        "PASSWORD=${PASSWORD:-$1}",
        ': "${TOKEN:=}"',
        "git checkout token fix",
        "git config --global user.name Alice",
        "npm config set registry https://registry.npmjs.org/",
        "helm install web ./chart --set image.tag=1.2.3,replicas=2",
        "mysql -e \"CREATE USER 'a'@'%' IDENTIFIED BY '$PW'\"",
        'AUTH=$(printf "%s" "$u:$p" | base64)',
        'echo "db:5432:*:app:$PGPASS" > ~/.pgpass',
        "TOKENS=(a b c)",
        "echo 'c2VlIHlvdSBsYXRlcg==' | base64 -d  # auth demo",
        # false positives of a first version, found by bench/scrub_corpus.py on the real corpus
        "s/passwd/group/g;",
        "PWFILTER='s/rd.iscsi.password=[^ ]*/rd.iscsi.password=******/g'",
        "az storage blob upload --account-name account_name --account-key account_key -c web -f f.txt",
        "az login --service-principal -u http://sp -p cert.pem --tenant corp.onmicrosoft.com",
        "paperkey --secret-key secret_key.gpg --output secret_data.txt",
        "rabbitmqctl change_password alice new_password",
        'echo "setting_value" | elasticsearch-keystore add --stdin setting_name',
        "PRIVATE_KEY_FOLDER=.ssh",
        "# Password cracker.",
        "#   token: uuid",
        "max_tokens=3200000",
        'case "${next_token:-help}" in',
        ': "${SECRETS_EXTENSION:=".secret"}"',
        'tok=$(git config --default "$GITHUB_TOKEN" git-extras.github-personal-access-token)',
        'cmd_change_password=("pw;change-password" "command_ts3_server_pass.sh" "Change the password.")',
    ],
)
def test_code_around_the_long_tail_shapes_is_left_alone(line: str) -> None:
    out, counts = scrubbed_line(line)
    assert out == line and not counts


def test_a_continued_command_with_tool_names_on_its_later_lines_is_kept_whole() -> None:
    # The spans of a continued command and of a tool named on its next line overlap.
    text = "#!/bin/bash\nsteps/align.sh --nj 4 \\\n  --cmd zip data/lang \\\n  exp/zip || exit 1;\nzip -r a.zip b\n"
    assert scrub(text).text == text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("DB_PASSWORD=Summer_Holiday", "Summer_Holiday"),
        ("mysql -u root -pcorrect_horse_battery app", "correct_horse_battery"),
        ("sshpass -p blue_monkey ssh backup@nas", "blue_monkey"),
        ("curl -u admin:purple_rain https://ci.corp/api", "purple_rain"),
        ("export PGPASSWORD=tiger_lily", "tiger_lily"),
    ],
)
def test_a_password_of_words_joined_by_underscores_is_scrubbed(line: str, secret: str) -> None:
    # Only words that say what goes there (`new_password`, `storage_account_key`) are placeholders.
    out, _ = scrubbed_line(line)
    assert secret not in out and "REDACTED_" in out


@pytest.mark.parametrize(
    "line",
    [
        "echo hello | git hash-object --stdin",
        "echo '{}' | prettier --stdin-filepath x.json",
        'sed -i "s/^#password_encryption = .*/password_encryption = scram-sha-256/" pg.conf',
        'sed -i "s/^SECRET_KEY = .*/SECRET_KEY = get_random_secret_key()/" settings.py',
        "helm install db bitnami/postgresql --set auth.existingSecret=db-credentials",
        "git config core.askPass git-gui--askpass",
        ': "${ADMIN_PASSWORD_HASH:-abc123def456}"',
    ],
)
def test_code_near_the_new_rules_is_left_alone(line: str) -> None:
    out, counts = scrubbed_line(line)
    assert out == line and not counts


def test_a_here_document_that_says_password_in_prose_is_kept() -> None:
    text = "#!/bin/bash\ncat <<EOF\nPassword changed\npassword updated\nEOF\n"
    assert scrub(text).text == text


@pytest.mark.parametrize(
    "line",
    [
        "s/" * 10_000,
        "x --set " + "a" * 20_000,
        "a:1:" * 5_000,
        "sed 's/__PASSWORD" + "_" * 20_000,
        "function f" + " " * 8_000 + "{" + " " * 8_000 + "echo abcdefgh12" + " " * 8_000 + "x",
        "f() {" + " " * 20_000 + "x",
        'TOKEN="' + "id=a" * 3_000 + ',x"',
        "ssh" + " -a x=y" * 2_000 + " <jane.doe@acmecorp.com>",
        'echo "kHxLqUmm8Z/ZVz9XzXbVDDcKEKtQbTRvGeE8tFhOwWc3" token ' + ">" * 30_000,
        "x.auth " + "a." * 15_000,
        'password "abcdef12"' + " " * 30_000 + "x",
        "BUNDLE_" + "A__" * 10_000,
    ],
    ids=[
        "sed openers",
        "helm value",
        "pgpass-like",
        "sed placeholder",
        "function blanks",
        "brace blanks",
        "mount spec",
        "ssh options",
        "redirections",
        "auth setting",
        "dsl blanks",
        "bundler host",
    ],
)
def test_a_long_hostile_line_is_scrubbed_in_linear_time(line: str) -> None:
    # Unbounded lazy patterns once took 2-25 s on such 20 KB lines.
    import time

    start = time.perf_counter()
    scrub(f"#!/bin/bash\n{line}\n")
    assert time.perf_counter() - start < 5.0  # a hang guard, far above the ~0.1 s it takes


def test_a_long_file_of_continued_commands_is_scrubbed_in_linear_time() -> None:
    import time

    text = "#!/bin/bash\n" + "mysql -u root \\\n" * 20_000 + "  -pS3cretPw1 db\n"
    start = time.perf_counter()
    out = scrub(text)
    assert time.perf_counter() - start < 10.0 and "S3cretPw1" not in out.text  # a hang guard


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("# the admin password is Xy7kQ2pLm9Rt4vB1, change it after the first login", "Xy7kQ2pLm9Rt4vB1"),
        ("# RCON password:    adminF54CC0VR", "adminF54CC0VR"),
        ("echo 3f4a9c0d1e2b3a4c5d6e7f8091a2b3c4 > config/master.key", "3f4a9c0d1e2b3a4c5d6e7f8091a2b3c4"),
        ("printf '%s' Vt8kLm2Qp9Zr4Xw1 > ~/.vault-token", "Vt8kLm2Qp9Zr4Xw1"),
        ("echo -n 'Db7Pw3Lq9Zk2' >> /run/secrets/db_password", "Db7Pw3Lq9Zk2"),
        (
            '  "private_key_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",',
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        ),
    ],
)
def test_a_password_in_prose_a_key_written_to_a_key_file_and_a_key_id_are_scrubbed(
    line: str, secret: str
) -> None:
    out, counts = scrubbed_line(line)
    assert secret not in out and counts


@pytest.mark.parametrize(
    "line",
    [
        "# the password is required; see --help",
        "# root password: see the wiki",
        "# Password was changed",
        "# The password is base64-encoded below",
        "# the password is sha512-hashed",
        'echo "${#password} characters"; n=${#password}: too short',
        "echo 12345678abc > notes.txt",
        "echo hello_world > out.key",
        'echo "$TOKEN" > ~/.token',
        "echo build42ok > /tmp/app.keys.list",
    ],
)
def test_prose_about_passwords_and_ordinary_writes_are_kept(line: str) -> None:
    out, counts = scrubbed_line(line)
    assert out == line and not counts


def test_a_long_comment_of_password_words_is_scrubbed_in_linear_time() -> None:
    import time

    start = time.perf_counter()
    scrub("#!/bin/bash\n" + "# password " * 5_000 + "\necho " + "a1" * 5_000 + " > " + "k" * 20_000 + "\n")
    assert time.perf_counter() - start < 5.0  # a hang guard, far above the ~0.05 s it takes


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("export DB_PASSWORD='r7Hq2xKpñLm4Wz9b'", "r7Hq2xKpñLm4Wz9b"),  # a letter beyond ASCII
        ('ADMIN_PASS="Schlüssel2024"', "Schlüssel2024"),
        ("password=contraseña", "contraseña"),
    ],
)
def test_a_password_with_letters_beyond_ascii_is_scrubbed(line: str, secret: str) -> None:
    assert secret not in scrub(line).text


@pytest.mark.parametrize(
    "line",
    ['PASSWORD_TEXT="Contraseña:"', 'PASS_PROMPT="Введите пароль"', 'echo "Passwort — ${PASSWORD}"'],
)
def test_localized_prompts_about_passwords_are_kept(line: str) -> None:
    assert scrub(line).text == line


def test_keys_answered_to_a_clis_configure_in_a_here_document_are_scrubbed() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
    aws = f"aws configure <<EOF\nAKIAIOSFODNN7EXAMPLE\n{secret}\nus-east-1\njson\nEOF\n"
    out = scrub(aws).text
    assert secret not in out and "\nus-east-1\njson\nEOF" in out  # the region and format stay
    token = "dapi0123456789abcdef0123456789abcdef"
    host = "https://adb-1234567890123456.7.azuredatabricks.net"
    out = scrub(f"databricks configure --token <<EOF\n{host}\n{token}\nEOF\n").text
    assert token not in out and host in out
    build = "./configure <<EOF\nyes\nprefix2024\nEOF\n"  # another program's configure: its answers stay
    assert scrub(build).text == build


def test_a_vault_approle_secret_id_is_scrubbed_and_an_aws_secret_id_kept() -> None:
    sid = "f6e74658-e025-4c5e-a1aa-7874e3dea444"
    login = f"vault write auth/approle/login role_id=0b6c0d1e-5b8a-4d0e-9a43-2f4c1e7d9a10 secret_id={sid}"
    out = scrub(login).text
    assert sid not in out and "role_id=0b6c0d1e" in out  # the role id is public, like a user name
    assert sid not in scrub(f'export VAULT_SECRET_ID="{sid}"').text
    for kept in ("SECRET_ID=prod/db/password", f"aws secretsmanager get-secret-value --secret-id {sid}"):
        assert scrub(kept).text == kept  # a secret's name or id, not the secret


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            "[client.admin]\n\tkey = AQBf2bBhAAAAABAAn3iJ4dTl5J0r0h9oXf5v0w==\n",
            "AQBf2bBhAAAAABAAn3iJ4dTl5J0r0h9oXf5v0w==",
        ),
        (
            '{\n  "encrypt": "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",\n  "server": true\n}\n',
            "pUqJrVyVRj5jsiYEkM",
        ),
        ("redis-cli -h cache01 ACL SETUSER app on '>Kq7vT2mX9pLw' '~app:*' '+@all'", "Kq7vT2mX9pLw"),
        ("bundle config --global gems.contribsys.com 1a2b3c4d:9f8e7d6c5b4a", "9f8e7d6c5b4a"),
        (
            'COMPOSER_AUTH=\'{"github-oauth": {"github.com": "3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f901"}}\' composer install',
            "3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f901",
        ),
    ],
)
def test_keys_in_service_configurations_and_package_manager_auth_are_scrubbed(line: str, secret: str) -> None:
    assert secret not in scrub(line).text


@pytest.mark.parametrize(
    "line",
    [
        '"encrypt": true',
        "key = value",
        "bundle config set path vendor/bundle",
        "bundle config --local build.nokogiri --use-system-libraries",
        "ACL SETUSER app on nopass ~app:* +@all",
        '"github-oauth": {"github.com": "$GITHUB_TOKEN"}',
    ],
)
def test_settings_beside_those_keys_are_kept(line: str) -> None:
    assert scrub(line).text == line
