"""Credentials (rules/classifiers/recognizers/credentials.yaml): pasted secrets give the label, talk about them doesn't.

Every token below is invented — random characters in the provider's shape — and none is a real secret. The tests
run the classifier in pattern-only mode (no spaCy), which is all the credentials label needs.
"""

from __future__ import annotations

import pytest

from classifiers.engine import Classifier
from classifiers.recognizers import EntityFinder
from events.labels import DataLabel
from rules.classifier_rules import load_classifier_rules
from rules.classifier_schema import Recognizer

CREDENTIAL_ENTITIES = {"PRIVATE_KEY", "AWS_ACCESS_KEY", "API_KEY", "PASSWORD"}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(ner=False)


def _credential_recognizers() -> list[Recognizer]:
    rules = load_classifier_rules()
    return [rule for rule in rules.recognizers if rules.origins[rule.id].name == "credentials.yaml"]


CREDENTIAL_RULES = _credential_recognizers()


# --- Prompts that paste a secret --------------------------------------------------------------------------------

LEAKS = [
    pytest.param(
        "This script fails with 401, can you fix it?\n\nimport requests\nGITHUB_TOKEN = "
        "'ghp_26auCJp8cHzlQEWht8NC1Wd3N52OWt3O2Vcb'\nr = requests.get(url, headers={'Authorization': f'token "
        "{GITHUB_TOKEN}'})",
        id="github-classic",
    ),
    pytest.param(
        "export GH_TOKEN=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",
        id="github-fine-grained",
    ),
    pytest.param(
        'Why does curl --header "PRIVATE-TOKEN: glpat-gY4v1uXHSwFr-GOhZF_4" '
        "https://gitlab.acme.io/api/v4/projects 403?",
        id="gitlab-pat",
    ),
    pytest.param(
        "My bolt app says invalid_auth. SLACK_BOT_TOKEN=xoxb-755099159534-7236186217973-z91eO9joovm4gfnvE0rGRV3X",
        id="slack-bot",
    ),
    pytest.param(
        "requests.post('https://hooks.slack.com/services/T9MT4YW67/"
        "BMYZEBXVFWO/yiaijAdbd7mluWBtDELJtPjh', json={'text': x})",
        id="slack-webhook",
    ),
    pytest.param(
        "stripe.api_key = 'sk_live_1TlAQxUlbAeYFAb9AVWhKHrB'\ncharge = stripe.Charge.create(...)", id="stripe-live"
    ),
    pytest.param(
        "from openai import OpenAI\nclient = OpenAI(api_key='sk-proj-shr3zJRrsBHX0P_pzr47oGQWeqUcmhwdDk4vJ-CsJ63cBGiDTZ"
        "JTPCoc0xkQyiN6Ig_lJeqDzjqRk6SYf8U96lpx0Y9SyLj3iMQ_Td2MhxSAjyHNaXObwJ6JRBCAYWtdzYdunJWQKjB6qQDvwq_c29IUgWoq')",
        id="openai-project",
    ),
    pytest.param(
        "ANTHROPIC_API_KEY=sk-ant-api03-EFSvz7H3gJHphzo8fsNBPurnwo"
        "3muVbrQJYoF7rKjqNA9AlE0_sV762NN1NJ2uTy9cvHEc-yQQJzw8b4_"
        "1uAiUC0KufgJAA python agent.py gives overloaded_error, why?",
        id="anthropic",
    ),
    pytest.param(
        "<script src='https://maps.googleapis.com/maps/api/js?key=AIzabSZmdXDDllIEGEM5rmGoDtcAY62dggpUC3g'></script>",
        id="google-api-key",
    ),
    pytest.param(
        '{"web": {"client_id": "x.apps.googleusercontent.com", '
        '"client_secret": "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"}}',
        id="google-oauth",
    ),
    pytest.param(
        "[default]\naws_access_key_id = AKIAHRZ5IE4ZYEYRUHWW\naws_secret_access_key "
        "= 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",
        id="aws-credentials-file",
    ),
    pytest.param(
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmeprodlogs;AccountKey=RG0np9CGop5"
        "rbrZGIxv6yO4ueWTVqgOh8C9NngNEn4gqVdhIeYlWhrx6m6VSwZz01kCLfI0K/a+NCBnqU5Kzcw==;EndpointSuffix=core.windows.net",
        id="azure-storage",
    ),
    pytest.param(
        "client = Client('ACd3343966532cae12fe2b6692c4061454', '343345312e38ed92e91d813efba99553')  # twilio",
        id="twilio",
    ),
    pytest.param(
        "sg = SendGridAPIClient('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')", id="sendgrid"
    ),
    pytest.param("MAILGUN_API_KEY=key-dd84e849b8918e06a64052a247423210\nMAILGUN_DOMAIN=mg.acme.io", id="mailgun"),
    pytest.param("//registry.npmjs.org/:_authToken=npm_7LmeipULRMVvZyXZEWtZDTKxtEBcE21TUFul", id="npmrc"),
    pytest.param(
        "twine upload -u __token__ -p "
        "pypi-AgEIcHlwaS5vcmcyxZtSQFFeMbLau3OeBVi1JZSjK_WoOaEtflQjYZ58z_gAcYXUrMkP97RhxZVf_TJAW"
        " dist/*",
        id="pypi",
    ),
    pytest.param(
        "from huggingface_hub import login\nlogin(token='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')", id="huggingface"
    ),
    pytest.param(
        "client.run('MTuiJx5ESUkLuEyAa8K1eMghlj.XX1dU0.qwFvTEO6coKbGFqpdQVAXxsbOT-DF9kNsxlDj0')  # discord bot",
        id="discord",
    ),
    pytest.param("bot = telebot.TeleBot('0700253462:AAqvDz1UjNsp7_J6kz7qlCPlLrtZUD0xjjA')", id="telegram"),
    pytest.param("X-Shopify-Access-Token: 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", id="shopify"),
    pytest.param("SQUARE_ACCESS_TOKEN=EAAAcQLz88ziVF7Emid-BfLAUBPWS8LUUbSVYUfVk258QeVIxto-TpVihO7H6huq", id="square"),
    pytest.param(
        "doctl auth init -t dop_v1_143eecbe0d25909745b88a06400960d537b3756e305d251e339ff88cd33c39fe", id="digitalocean"
    ),
    pytest.param("heroku config:set HEROKU_API_KEY=8d7515a1-8a09-74f3-1a0d-4cbbf46abda7", id="heroku"),
    pytest.param(
        "This token fails verification, what is wrong? "
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1Xzg4NDIiLCJyb2xl"
        "IjoiYWRtaW4iLCJleHAiOjE3NjcyMjU2MDB9.EKjtMFyzcsSVO6ChwGyUPC2uCKDJEd21tE8tiPyKdnf",
        id="jwt",
    ),
    pytest.param('DATABASE_URL="postgresql://app_rw:Vx7!qR2mZp9s@db-prod.internal:5432/orders"', id="postgres-url"),
    pytest.param(
        "client = MongoClient('mongodb+srv://reporting:k3Rt9Qw7Lp2Z@cluster0.ab1cd.mongodb.net/analytics')",
        id="mongodb",
    ),
    pytest.param("CELERY_BROKER_URL=amqp://billing:Rq4xT8vLm2@rabbit.acme.internal:5672//", id="amqp"),
    pytest.param("REDIS_URL=redis://default:Yt6pQ2wX9rK4@cache.acme.internal:6379/0", id="redis"),
    pytest.param("engine = create_engine('mysql+pymysql://etl:N8rVw3kZq5@10.0.4.12/warehouse')", id="mysql"),
    pytest.param(
        "Server=tcp:acme-sql.database.windows.net,1433;Initial "
        "Catalog=Orders;User ID=svc_orders;Password=Qm7#vT2p!Lx9;",
        id="ado-net",
    ),
    pytest.param(
        "curl -s -H 'Authorization: Bearer 9tgFQtOqjqevS2OT7Rk3pXw8ZbN1c' https://api.acme.internal/v2/orders | jq .",
        id="bearer-header",
    ),
    pytest.param(
        "GET /admin HTTP/1.1\nHost: intranet\nAuthorization: Basic YWNtZS1zdmM6N3JLM3BYdzhaYk4xY1F2", id="basic-header"
    ),
    pytest.param(
        "why won't this key load?\n-----BEGIN RSA PRIVATE "
        "KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----",
        id="rsa-private-key",
    ),
    pytest.param("spring.datasource.password=h7#Kp2!vQz9$Lm\nspring.datasource.username=orders", id="spring-password"),
    pytest.param(
        "CREATE USER reporting WITH PASSWORD 'x'; ALTER USER app IDENTIFIED BY 'Xk9#mQ2vLp7';", id="sql-identified-by"
    ),
    pytest.param('{"username": "svc-export", "password": "Tq8$wZ3nKv5r", "host": "sftp.acme.io"}', id="json-password"),
    pytest.param("GROQ_API_KEY=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", id="groq"),
    pytest.param(
        "VAULT_TOKEN=hvs.CAESIJ3k8s9dLm2Qx7RtYb4WvN6pZc1HfG5aKe0oUiTnBrSjGh4KHGh2cy5YbTJkQ3p5OHNrVHF "
        "vault kv get secret/app",
        id="vault",
    ),
]


@pytest.mark.parametrize("text", LEAKS)
def test_a_pasted_secret_gives_the_credentials_label(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert DataLabel.CREDENTIALS in result.labels, result.entities


# --- Prompts about credentials, and everyday programming prompts ----------------------------------------------

ORDINARY = [
    pytest.param(
        "How do I rotate my GitHub token? Mine starts with ghp_ and expires next week.", id="rotate-github-token"
    ),
    pytest.param("What is a JWT, and why does it start with eyJ?", id="what-is-a-jwt"),
    pytest.param(
        "Explain the difference between an API key, an OAuth access token and a refresh token.", id="token-kinds"
    ),
    pytest.param(
        'import os\nfrom openai import OpenAI\n\nclient = OpenAI(api_key=os.environ["OPENAI_API_KEY"])\n'
        "resp = client.chat.completions.create(model='gpt-4o', messages=msgs, max_tokens=512)",
        id="env-var-lookup-python",
    ),
    pytest.param(
        "const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);\nconst token = req.headers['x-auth-token'];",
        id="env-var-lookup-node",
    ),
    pytest.param(
        'String password = System.getenv("DB_PASSWORD");\ntoken := os.Getenv("GITHUB_TOKEN")', id="env-var-java-go"
    ),
    pytest.param(
        "# .env.example\nDATABASE_URL=postgres://user:password@localhost:5432/app\nSECRET_KEY=change-me\n"
        "OPENAI_API_KEY=your-api-key-here\nSTRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\nGITHUB_TOKEN=<TOKEN>",
        id="env-template",
    ),
    pytest.param(
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"
        "      POSTGRES_USER: app\n  web:\n    environment:\n      "
        "DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db:5432/app",
        id="docker-compose-placeholders",
    ),
    pytest.param(
        "jobs:\n  publish:\n    steps:\n      - run: npm publish\n     "
        "   env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}",
        id="github-actions-secrets",
    ),
    pytest.param(
        "Why does uuid.uuid4() give 3f1c9a2e-8b7d-4c6e-9f0a-1b2c3d4e5f60 and is it safe as a primary key? The request "
        "id 550e8400-e29b-41d4-a716-446655440000 appears twice in the log.",
        id="uuids",
    ),
    pytest.param(
        "git revert 740bc52e818cf0c9b0f1278a5a5fe78422ee038d broke "
        "the build; git show 9fceb02d0ae598e95dc970b74767f19372d61af8 "
        "looks fine. Was it the merge at a1b2c3d?",
        id="git-shas",
    ),
    pytest.param(
        'Why is this image blank? <img src="data:image/png;'
        "base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42"
        'mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" alt="dot">',
        id="base64-image",
    ),
    pytest.param(
        "sha256sum gives e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 for an empty file and md5 "
        "d41d8cd98f00b204e9800998ecf8427e. Image digest "
        "nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
        id="hashes",
    ),
    pytest.param(
        "Summarise https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI&index=3 and "
        "https://docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit#gid=0 and "
        "https://www.amazon.com/dp/B08N5WRWNW/ref=sr_1_3?keywords=usb+hub&qid=1700000000&sr=8-3",
        id="long-urls",
    ),
    pytest.param(
        "hashed = bcrypt.hashpw(password.encode(), "
        "bcrypt.gensalt(rounds=12))\nif not bcrypt.checkpw(candidate, hashed): "
        "raise AuthError('bad password')",
        id="password-hashing-code",
    ),
    pytest.param(
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'PASSWORD': os.environ['DB_PASSWORD'], "
        "'HOST': 'db'}}\nSECRET_KEY = os.getenv('DJANGO_SECRET_KEY')",
        id="django-settings",
    ),
    pytest.param(
        'variable "db_password" {\n  sensitive = true\n}\nresource "aws_db_instance" "main" {\n  password = '
        'var.db_password\n  username = "admin"\n}',
        id="terraform-variables",
    ),
    pytest.param(
        "tokenizer = AutoTokenizer.from_pretrained('gpt2')\ntokens = tokenizer(text)['input_ids']\nnum_tokens = 4096\n"
        "token_count = len(tokens)",
        id="tokenizer-code",
    ),
    pytest.param(
        "Write a regex that checks a password has 8+ characters, one digit and one symbol.", id="password-regex"
    ),
    pytest.param(
        '{"id": "cus_NffrFeUfNV2Hib", "object": "customer", "created": 1680893993, "invoice_prefix": "0759376C"}',
        id="stripe-object-ids",
    ),
    pytest.param(
        "$ aws configure\nAWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\nAWS Secret Access Key [None]: "
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nDefault region name [None]: us-west-2",
        id="aws-documentation-keys",
    ),
    pytest.param(
        'curl -H "Authorization: Bearer $ACCESS_TOKEN" -H "Content-Type: application/json" https://api.example.com',
        id="curl-variable",
    ),
    pytest.param(
        'url = f"postgresql://{USER}:{PASSWORD}@{HOST}:5432/{DB}"\nmongodb+srv:/'
        "/<username>:<password>@cluster0.example.mongodb.net",
        id="connection-string-templates",
    ),
    pytest.param(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOd8h3Jk2LmN5pQ7rS9tUvWxYz1A3bC5dE7fG9hI1jK3 dev@laptop",
        id="ssh-public-key",
    ),
    pytest.param(
        "2024-05-01T12:00:00Z INFO request_id=3f1c9a2e-8b7d-4c6e-9f0a-1b2c3d4e5f60 "
        "user_id=8842 status=200 latency_ms=45 "
        "trace=4bf92f3577b34da6a3ce929d0e0e4736",
        id="log-line",
    ),
    pytest.param(
        "Our refresh token expires after 30 days; should the access token be 15 minutes? The secret: rotate often.",
        id="token-lifetimes",
    ),
    pytest.param(
        '"integrity": '
        '"sha512-Ut7zF8xRc2Vq1hXbW0ZlTQ3N5mY8P1kA6sJ4eD9gC7vB2nM0oL5iK3uH8jG6fE1dS9aQ4wR7tY2xZ0cV3bN6m==",\n'
        '"resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz"',
        id="package-lock",
    ),
    pytest.param(
        "cd $(pwd)/build && PWD=/home/dev2/project make -j8 && echo 'main.3f1c9a2e8b7d4c6e.js built'", id="shell-paths"
    ),
    pytest.param(
        "kubectl create secret generic db --from-literal=password=$(openssl "
        "rand -base64 24)\napiVersion: v1\nkind: Secret\n"
        "data:\n  password: <base64-encoded-password>",
        id="kubernetes-secret-template",
    ),
    pytest.param(
        "The secret to good sourdough is time: 24 hours of cold fermentation and a 1:5:5 feed.", id="prose-secret"
    ),
]


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_prompt_gives_no_credentials_label(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert DataLabel.CREDENTIALS not in result.labels, [
        (entity.type, text[entity.start : entity.end]) for entity in result.entities
    ]


# --- The entity is the secret ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret", "entity"),
    [
        ("token=ghp_26auCJp8cHzlQEWht8NC1Wd3N52OWt3O2Vcb;", "ghp_26auCJp8cHzlQEWht8NC1Wd3N52OWt3O2Vcb", "API_KEY"),
        ('DATABASE_URL="postgresql://app_rw:Vx7!qR2mZp9s@db-prod.internal:5432/orders"', "Vx7!qR2mZp9s", "PASSWORD"),
        (
            "aws_secret_access_key = NQszcS1c52b30NUgrB9rRWdeMR19YDxs/lH0IGk+\n",
            "NQszcS1c52b30NUgrB9rRWdeMR19YDxs/lH0IGk+",
            "AWS_ACCESS_KEY",
        ),
        (
            "Authorization: Bearer 9tgFQtOqjqevS2OT7Rk3pXw8ZbN1c\nAccept: */*",
            "9tgFQtOqjqevS2OT7Rk3pXw8ZbN1c",
            "API_KEY",
        ),
        ('DB_PASSWORD="h7#Kp2!vQz9$Lm"', "h7#Kp2!vQz9$Lm", "PASSWORD"),
        (
            "see\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBn7kq2Vx9pLm3Rt5Wy8Zb1Cd4Fg6Hj9Kl2Mn5Pq8StoAoGCCqGSM49\n"
            "-----END EC PRIVATE KEY-----\nthanks",
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBn7kq2Vx9pLm3Rt5Wy8Zb1Cd4Fg6Hj9Kl2Mn5Pq8StoAoGCCqGSM49\n"
            "-----END EC PRIVATE KEY-----",
            "PRIVATE_KEY",
        ),
    ],
    ids=["github", "url-password", "aws-secret", "bearer", "assignment", "pem-block"],
)
def test_the_entity_span_is_the_secret(classifier: Classifier, text: str, secret: str, entity: str) -> None:
    result = classifier.classify(text)
    start = text.index(secret)
    spans = {(found.type, found.start, found.end) for found in result.entities}
    assert (entity, start, start + len(secret)) in spans
    assert secret not in result.redacted


# --- The rule file's own examples and shape -------------------------------------------------------------------


@pytest.mark.parametrize("rule", CREDENTIAL_RULES, ids=[rule.id for rule in CREDENTIAL_RULES])
def test_each_recognizer_s_examples_hold(rule: Recognizer) -> None:
    finder = EntityFinder(rule)
    for text in rule.examples.match:
        assert any(found.type == rule.entity for found in finder.find(text, text.lower())), text
    for text in rule.examples.no_match:
        assert finder.find(text, text.lower()) == [], text


@pytest.mark.parametrize("rule", CREDENTIAL_RULES, ids=[rule.id for rule in CREDENTIAL_RULES])
def test_each_recognizer_is_cheap_to_skip_and_gives_a_credentials_entity(rule: Recognizer) -> None:
    assert rule.keywords, "a keyword pre-filter keeps the recognizer off ordinary prompts"
    assert all(keyword == keyword.lower() for keyword in rule.keywords)
    assert rule.entity in CREDENTIAL_ENTITIES


def test_the_credentials_file_covers_the_common_providers() -> None:
    ids = {rule.id for rule in CREDENTIAL_RULES}
    assert len(ids) >= 30
    assert {"github-token", "slack-token", "openai-api-key", "anthropic-api-key", "json-web-token"} <= ids
