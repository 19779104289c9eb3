"""The prose of the man pages that is not in the command tree: examples per command,
related pages, environment, files and exit status. ``manpage`` renders it; `code` in a
text is set in bold.

To document a new command, add its examples under its path (``"provider put"``; ``""``
is ``integ`` itself) and run ``make docs``.
"""

from conductor_integrations import config
from conductor_integrations.errors import ExitCode

#: command path -> ((what it does, the command line), ...)
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        (
            "Try integ against the built-in sandbox, no server needed:",
            "integ provider put openai-demo -t openai -c 'api_key=${env:OPENAI_API_KEY}' --server local\n"
            "integ provider list --server local",
        ),
        (
            "Save a server and application key once, then work without flags:",
            "integ auth login --server https://x.orkes.io --key-id KEY_ID\ninteg provider list",
        ),
        (
            "Start a document for a type, check it, apply it:",
            "integ types show anthropic --example > anthropic.yaml\n"
            "integ validate anthropic.yaml\n"
            "integ provider apply -f anthropic.yaml",
        ),
    ),
    "provider put": (
        (
            "Create or update an OpenAI provider, the key read from the environment:",
            "integ provider put openai-prod -t openai -c 'api_key=${env:OPENAI_API_KEY}'",
        ),
        (
            "Keep the key in the keyring and refer to it:",
            "integ secret set anthropic-prod api_key\n"
            "integ provider put anthropic-prod -t anthropic -c endpoint=https://api.anthropic.com"
            " -c 'api_key=${keyring}'",
        ),
        (
            "Google Vertex AI, the service-account JSON read from a file:",
            "integ provider put vertex -t vertex_ai -c projectName=my-project -c environment=us-central1"
            " -c publisher=google -c file=@service-account.json",
        ),
        (
            "From a YAML file, with a new description:",
            "integ provider put openai-prod -f openai.yaml -d 'Production'",
        ),
        (
            "Change one key of an existing provider; every other field, key and secret is kept:",
            "integ provider put rabbit -c port=5673",
        ),
        (
            "Remove one key, or send exactly the given body instead of merging it onto the live one:",
            "integ provider put claude --unset version\n"
            "integ provider put claude --replace -t anthropic -c api_key=@key.txt -c endpoint=https://e",
        ),
        (
            "A mask (******** or xxxxxxxxxx) in a secret keeps the server's value:",
            "integ provider put claude -c 'api_key=********' -c version=2023-06-01",
        ),
        (
            "Show the request, secrets masked, without sending it (with a server: the merged body):",
            "integ provider put x -t openai -c api_key=@key.txt --dry-run",
        ),
    ),
    "provider get": (
        ("A provider as YAML (secret values masked):", "integ provider get openai-prod -o yaml"),
    ),
    "provider list": (
        ("Every provider:", "integ provider list"),
        (
            "The active AI model providers as JSON:",
            "integ provider list --category AI_MODEL --active-only -o json",
        ),
        (
            "The providers tagged team=payments in production:",
            "integ provider list -l team=payments -l env=prod",
        ),
    ),
    "provider delete": (
        ("Delete two providers without asking:", "integ provider delete old-openai old-cohere --yes"),
        (
            "In a script, succeed when it is already gone:",
            "integ provider delete old-openai --yes --missing-ok",
        ),
    ),
    "provider apply": (
        (
            "The plan for a folder of documents (reads the server, writes nothing):",
            "integ provider apply -f providers/ --dry-run",
        ),
        (
            "Apply it, stopping at the first failure, results as JSON:",
            "integ provider apply -f providers/ --fail-fast -o json",
        ),
        (
            "Edit a provider the kubectl way; the secret shown as ******** keeps its stored value:",
            "integ provider get pg1 -o yaml > pg1.yaml\n$EDITOR pg1.yaml\ninteg provider apply -f pg1.yaml",
        ),
        (
            "Send every secret again, even those this machine applied unchanged:",
            "integ provider apply -f providers/ --resend-secrets",
        ),
        (
            "The documents own every provider tagged team=payments: delete those they no longer "
            "declare (every document carries tags: {team: payments}); look first with --dry-run:",
            "integ provider apply providers/ --prune -l team=payments --dry-run\n"
            "integ provider apply providers/ --prune -l team=payments",
        ),
    ),
    "provider diff": (
        ("Compare documents with the server; exit 1 when they differ:", "integ provider diff -f providers/"),
        (
            "A drift gate on a fresh CI runner (secrets it cannot verify are shown, not counted):",
            "integ provider diff -f providers/ --ignore-secrets",
        ),
        (
            "Include what apply --prune would delete (exit 1 when anything would be):",
            "integ provider diff providers/ --prune -l team=payments",
        ),
    ),
    "provider export": (
        ("Save every provider as documents that apply accepts:", "integ provider export > providers.yaml"),
        (
            "One provider, secrets as environment references:",
            "integ provider export openai-prod --secrets env",
        ),
        (
            "The providers tagged team=payments, as a folder's start (two secrets that would "
            "share one variable are refused, exit 3):",
            "integ provider export -l team=payments --secrets env > payments.yaml",
        ),
    ),
    "provider tag set": (("Tag a provider:", "integ provider tag set openai-prod team=ml env=prod"),),
    "provider tag list": (("The tags of a provider:", "integ provider tag list openai-prod"),),
    "provider tag remove": (("Remove a tag:", "integ provider tag remove openai-prod env=prod"),),
    "types list": (
        ("Every type, with its category and required keys:", "integ types list"),
        ("Vector databases only, as JSON:", "integ types list --category VECTOR_DB -o json"),
    ),
    "types show": (
        ("Which keys a type takes, which are required, which are secret:", "integ types show anthropic"),
        ("Start a document from the example:", "integ types show pineconedb --example > pinecone.yaml"),
    ),
    "types diff": (
        (
            "Compare the embedded table with the server's types:",
            "integ types diff --server https://x.orkes.io",
        ),
    ),
    "types schema": (
        (
            "Write the schema for your editor, then name it on top of each document with "
            "`# yaml-language-server: $schema=integ.schema.json`:",
            "integ types schema > integ.schema.json",
        ),
        (
            "The schema of the types your server defines:",
            "integ types schema --server-types --server https://x.orkes.io > integ.schema.json",
        ),
    ),
    "validate": (
        ("Check a folder of documents, offline:", "integ validate providers/"),
        (
            "In a pull request or pre-commit, with no secret at hand (nothing is resolved):",
            "integ validate --offline providers/",
        ),
        ("In CI, unknown keys are errors too:", "integ validate --strict providers/"),
        ("From standard input:", "integ validate - < openai.yaml"),
    ),
    "secret set": (
        ("Store an API key (hidden prompt on a terminal):", "integ secret set openai-prod api_key"),
        ("From a file or a pipe:", "integ secret set openai-prod api_key < key.txt"),
    ),
    "secret list": (("The names of stored secrets (never their values):", "integ secret list"),),
    "secret delete": (("Forget a stored secret:", "integ secret delete openai-prod api_key"),),
    "auth login": (
        (
            "Save a server and application key in the default profile (the secret is asked for and "
            "kept in the keyring):",
            "integ auth login --server https://x.orkes.io --key-id KEY_ID",
        ),
        (
            "In a script, the secret from standard input, into profile staging:",
            "integ auth login --profile staging --server https://staging.orkes.io --key-id KEY_ID"
            " --secret-stdin < secret.txt",
        ),
    ),
    "auth status": (("Who am I, on which server:", "integ auth status"),),
    "auth logout": (("Forget the stored key secret and cached token:", "integ auth logout"),),
    "config show": (
        ("The effective settings and where each came from:", "integ config show"),
        ("For another profile, as JSON:", "integ config show --profile staging -o json"),
    ),
    "server": (
        (
            "Run the sandbox on port 8080 and use it from another terminal:",
            "integ server --port 8080\ninteg provider list --server http://127.0.0.1:8080",
        ),
        (
            "With authentication and a read-only key:",
            "integ server --auth admin:s3cret --auth viewer:s3cret:read",
        ),
    ),
    "model put": (("Add a model to a provider:", "integ model put openai-prod gpt-4o -d 'GPT-4o'"),),
    "model get": (("One model:", "integ model get openai-prod gpt-4o"),),
    "model list": (("The models of a provider:", "integ model list openai-prod"),),
    "model delete": (("Remove a model:", "integ model delete openai-prod gpt-4o"),),
    "completion": (
        ("bash, for the current shell:", "source <(integ completion bash)"),
        (
            "bash, for good (with the bash-completion package):",
            "mkdir -p ~/.local/share/bash-completion/completions\n"
            "integ completion bash > ~/.local/share/bash-completion/completions/integ",
        ),
        (
            "zsh: save it in a folder on $fpath; ~/.zshrc needs `fpath=(~/.zfunc $fpath)` before `compinit`:",
            "mkdir -p ~/.zfunc\ninteg completion zsh > ~/.zfunc/_integ",
        ),
        ("fish:", "integ completion fish > ~/.config/fish/completions/integ.fish"),
    ),
}

#: command path -> the summary on the NAME line, when the first sentence of the help is too long
SUMMARY: dict[str, str] = {
    "": "manage integration providers on an Orkes Conductor server",
}

#: command path -> pages worth reading next (besides the parent and siblings)
RELATED: dict[str, tuple[str, ...]] = {
    "provider put": ("integ-types-show", "integ-secret-set", "integ-validate", "integ-provider-apply"),
    "provider apply": ("integ-validate", "integ-provider-diff", "integ-provider-export"),
    "validate": ("integ-types-show", "integ-provider-apply"),
    "types show": ("integ-provider-put", "integ-validate"),
    "types schema": ("integ-validate", "integ-types-show"),
    "secret set": ("integ-provider-put",),
    "auth login": ("integ-config-show",),
}

#: the settings' variables come from their one declaration (``settings.SETTINGS``)
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    *config.environment(),
    ("INTEG_CONFIG_DIR", "The folder of config.yaml, instead of $XDG_CONFIG_HOME/conductor-integrations."),
    ("INTEG_DATA_DIR", "The data folder, instead of $XDG_DATA_HOME/conductor-integrations."),
    (
        "INTEG_NO_KEYRING",
        "A true value (1, true, yes) keeps integ away from the OS keyring: look-ups find "
        "nothing and storing fails with a message. 0 uses the keyring even when CI is set.",
    ),
    ("INTEG_KEYRING_TIMEOUT", "Seconds to wait for the keyring before giving up with a message."),
    (
        "INTEG_ALLOW_OUTSIDE_FILES",
        "1 (or true, yes): let ${file:PATH} in documents read files outside the document's folder "
        "(as `--allow-outside-files`). Otherwise such a reference, symbolic links resolved, is "
        "refused; the folder of a document on stdin is the current folder. Any file reference "
        "reads only a regular file of at most 1 MiB (on the command line, a pipe too: "
        "-c api_key=@/dev/stdin).",
    ),
    (
        "GITHUB_ACTIONS",
        "true (as GitHub Actions sets it): `validate`, `provider apply`, `provider diff` and "
        "`provider put` also print each problem as a workflow command (`::error file=F,line=L,"
        "title=integ::...`, `::warning ...`), so that it shows on its line in the pull request: "
        "on stdout, or on stderr with `-o json|yaml`; at most 10 errors and 10 warnings, then "
        "a notice of how many more.",
    ),
    ("INTEG_ANNOTATIONS", "0: no workflow commands under GitHub Actions (see GITHUB_ACTIONS)."),
    ("CI", "When set to a true value, as CI systems do, the keyring is not used (see INTEG_NO_KEYRING)."),
    (
        "PYTHON_KEYRING_BACKEND",
        "The keyring backend; keyring.backends.null.Keyring stores nothing, so "
        "secrets then come from the environment or files.",
    ),
    (
        "XDG_CONFIG_HOME, XDG_DATA_HOME",
        "The base folders of the configuration and data folders (default ~/.config and ~/.local/share).",
    ),
)

FILES: tuple[tuple[str, str], ...] = (
    (
        "$XDG_CONFIG_HOME/conductor-integrations/config.yaml",
        "Profiles: server, key_id, output, timeout, "
        "retries and ca_bundle under `profiles:` (written by `integ auth login`). Never holds a secret. "
        "INTEG_CONFIG_DIR moves the folder.",
    ),
    (
        "$XDG_DATA_HOME/conductor-integrations/",
        "The data folder: the state of the built-in sandbox "
        "(`--server local`), the names (never the values) of stored secrets, cached tokens "
        "and provider names remembered for shell completion. INTEG_DATA_DIR moves it. "
        "integ creates its folders 0700 and its files 0600, whatever the umask.",
    ),
)

EXIT_STATUS: tuple[tuple[int, str], ...] = (
    (ExitCode.OK, "Success (`diff`: no differences)."),
    (ExitCode.DIFFERENCES, "`diff`: differences found (and nothing else)."),
    (ExitCode.USAGE, "Usage: unknown command or option, missing argument, no server configured."),
    (
        ExitCode.INVALID,
        "Invalid input: validation failed, unreadable YAML/JSON, missing secret; nothing was sent.",
    ),
    (ExitCode.AUTH, "Authentication or permission refused (401, 403)."),
    (ExitCode.NOT_FOUND, "Not found (404): no such provider, or the server does not know the type."),
    (ExitCode.REJECTED, "Rejected by the server (400, 409, other 4xx), e.g. a type change."),
    (
        ExitCode.UNAVAILABLE,
        "Server unreachable or failing: connection error, timeout, 5xx after retries, "
        "a reply that is not what the API returns (over 64 MiB, nested deeper than 64 levels); "
        "`provider apply` after 5 connection failures in a row (what it did not send is "
        "reported `not sent`).",
    ),
    (ExitCode.INTERNAL, "An unexpected internal error (a bug), in every command."),
    (ExitCode.INTERRUPTED, "Interrupted."),
)
