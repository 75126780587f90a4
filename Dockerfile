# One image for every actor; docker-compose.yml picks the command.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY automateos automateos
COPY bus bus
COPY schemas schemas
COPY gateway gateway
COPY orchestrator orchestrator
COPY engine engine
RUN pip install --no-cache-dir .
COPY examples examples
COPY --from=web /web/dist web/dist
ENV AUTOMATEOS_WEB_DIST=/app/web/dist AUTOMATEOS_EXAMPLES_DIR=/app/examples AUTOMATEOS_HOST=0.0.0.0
ENTRYPOINT ["automateos"]
