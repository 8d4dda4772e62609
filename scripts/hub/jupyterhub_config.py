"""JupyterHub's configuration for the course on one machine (`make hub`, scripts/hub/localhub.py).

localhub.py runs `jupyterhub -f` on this file with SEQGRADE_HUB_INSTANCE naming the instance's
instance.json: its ports, users, password and folders.
"""
import json
import os

c = get_config()  # noqa: F821
with open(os.environ["SEQGRADE_HUB_INSTANCE"], encoding="utf-8") as f:
    hub = json.load(f)
state = os.path.join(hub["dir"], "hub")

# On this machine only: the hub's public port, its own API and the proxy's API on 127.0.0.1.
c.JupyterHub.bind_url = f"http://127.0.0.1:{hub['port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [os.path.join(hub["venv"], "bin", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "jupyterhub-proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")

# A demo login: one password for every user of this hub (printed by `make hub`).
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = hub["password"]
c.Authenticator.allowed_users = {hub["instructor"], *hub["students"]}

# Each user's server runs as that Unix user (the hub runs as root), from the hub's environment.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(hub["venv"], "bin", "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180  # JupyterLab on a busy two-core machine
c.Spawner.http_timeout = 180
c.Spawner.environment = {"LANG": "C.UTF-8"}


def role_settings(spawner):
    """nbgrader's settings by role: formgrader and the course list for the instructor, the Assignments
    tab for students (scripts/hub/instructor/ and student/, rendered into the instance)."""
    role = "instructor" if spawner.user.name == hub["instructor"] else "student"
    spawner.environment = {**spawner.environment,
                           "JUPYTER_CONFIG_PATH": os.path.join(hub["dir"], "jupyter", role)}


c.Spawner.pre_spawn_hook = role_settings
