-- wrk script: POST /api/auth/login with the benchmark user's credentials.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@feria.test","password":"bench-password"}'
