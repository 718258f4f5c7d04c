# orch (scheduler + web UI) for docker-compose.yml. Node 20, production dependencies only;
# the web UI ships prebuilt in web/dist.
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV ORCH_HOME=/orch-home
EXPOSE 8080
CMD ["node", "bin/orch.js", "standalone", "--host", "0.0.0.0", "--port", "8080"]
