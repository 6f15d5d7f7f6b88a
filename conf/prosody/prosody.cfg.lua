-- Prosody 0.12 configuration for the SIP <-> XMPP gateway demo
-- (docker-compose.yml, service "prosody").
--
--   * VirtualHost example.com       the XMPP users (demo accounts alice and bob
--                                   are created by docker-entrypoint.sh)
--   * Component   sip.example.com   the gateway (XEP-0114); SIP users appear
--                                   as JIDs such as bob@sip.example.com
--
-- Demo shortcuts, NOT for production:
--   * c2s_require_encryption = false: a client may log in without TLS. The
--     entrypoint makes a self-signed certificate, so clients that insist on
--     TLS work after accepting it; put a real certificate in place (or use
--     certbot/prosodyctl cert import) and set this to true for real use.
--   * s2s is disabled: this server talks to no other XMPP server.
--   * the component secret has a demo default; set PROSODY_COMPONENT_SECRET
--     (docker-compose passes GW_XMPP_SECRET) to change it.
--
-- Everything site-specific is read once, here, from the environment (Prosody
-- 0.12 resolves ENV_NAME to os.getenv("NAME")). The defaults are the values
-- used in the container; .ci/check-confs sets these variables to start this
-- very file on 127.0.0.1 high ports in a temporary directory.
-- Keep helpers `local`: any global assignment in this file is a config option.
local data_dir        = ENV_PROSODY_DATA_PATH or "/var/lib/prosody"
local cert_dir        = ENV_PROSODY_CERT_DIR or "/var/lib/prosody/certs"
local c2s_interface   = ENV_PROSODY_C2S_INTERFACE or "*"
local c2s_port        = tonumber(ENV_PROSODY_C2S_PORT or "5222")
local comp_interface  = ENV_PROSODY_COMPONENT_INTERFACE or "*"
local comp_port       = tonumber(ENV_PROSODY_COMPONENT_PORT or "5347")
local comp_secret     = ENV_PROSODY_COMPONENT_SECRET or "demo-xmpp-component-secret"
local log_level       = ENV_PROSODY_LOG_LEVEL or "info"
-- end of environment-dependent settings

data_path = data_dir
pidfile = "prosody.pid" -- relative paths are resolved against data_path
certificates = cert_dir

-- Log to stdout/stderr; the container runtime collects it.
log = {
	{ levels = { min = log_level }, to = "console" };
}

-- Client connections (published to the host by docker-compose).
c2s_interfaces = { c2s_interface }
c2s_ports = { c2s_port }

-- Component connections (only the gateway container should reach this;
-- docker-compose does not publish it).
component_interfaces = { comp_interface }
component_ports = { comp_port }

-- No server-to-server federation in this demo: disable the auto-loaded s2s
-- modules so nothing listens on 5269 either.
modules_disabled = { "s2s", "s2s_auth_certs" }
s2s_ports = {}

modules_enabled = {
	-- the essentials for a desktop/mobile client
	"roster";
	"saslauth";
	"tls";
	"disco";
	"private";
	"vcard4";
	"vcard_legacy";
	"carbons";
	"pep";
	"blocklist";
	"bookmarks";
	"mam";
	"smacks";
	"csi_simple";
	-- small informational modules
	"version";
	"uptime";
	"time";
	"ping";
}

-- In-band registration stays off; the demo accounts are made with
-- prosodyctl by docker-entrypoint.sh.
allow_registration = false

c2s_require_encryption = false
authentication = "internal_hashed"
storage = "internal"
archive_expires_after = "1w"

VirtualHost "example.com"

Component "sip.example.com"
	component_secret = comp_secret
