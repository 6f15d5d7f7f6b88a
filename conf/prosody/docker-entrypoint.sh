#!/bin/sh
# Entrypoint of the demo Prosody container (conf/prosody/Dockerfile).
#   1. makes a self-signed certificate for the XMPP domain if none is there;
#   2. creates the demo accounts listed in PROSODY_DEMO_USERS
#      ("user:password user:password ...", empty for none) if they do not
#      exist yet; passwords changed later by the users are kept;
#   3. runs Prosody in the foreground.
set -eu

config=${PROSODY_CONFIG:-/etc/prosody/prosody.cfg.lua}
domain=${PROSODY_DEMO_DOMAIN:-example.com}
data_dir=${PROSODY_DATA_PATH:-/var/lib/prosody}
cert_dir=${PROSODY_CERT_DIR:-/var/lib/prosody/certs}
demo_users=${PROSODY_DEMO_USERS-alice:alice-demo-password bob:bob-demo-password}

mkdir -p "$cert_dir"
if [ ! -s "$cert_dir/$domain.crt" ] || [ ! -s "$cert_dir/$domain.key" ]; then
	echo "prosody-entrypoint: creating a self-signed certificate for $domain (demo only)"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-subj "/CN=$domain" -addext "subjectAltName=DNS:$domain" \
		-keyout "$cert_dir/$domain.key" -out "$cert_dir/$domain.crt" 2>/dev/null
	chmod 0600 "$cert_dir/$domain.key"
fi

# Prosody's internal storage keeps an account in <host>/accounts/<user>.dat,
# with "." in the host name escaped as %2e.
accounts_dir="$data_dir/$(printf '%s' "$domain" | sed 's/\./%2e/g')/accounts"
for entry in $demo_users; do
	user=${entry%%:*}
	password=${entry#*:}
	if [ -z "$user" ] || [ "$user" = "$entry" ]; then
		echo "prosody-entrypoint: ignoring malformed PROSODY_DEMO_USERS entry (want user:password)" >&2
		continue
	fi
	if [ ! -e "$accounts_dir/$user.dat" ]; then
		echo "prosody-entrypoint: creating demo account $user@$domain"
		prosodyctl --config "$config" register "$user" "$domain" "$password"
	fi
done

exec prosody -F --config "$config"
