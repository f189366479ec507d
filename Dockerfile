# One image for both roles; docker-compose.yml runs it as `api` and as `worker`.
# Build stage: the TypeScript compiler and the dev dependencies stay here.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build:sdk && npm run build

# Run stage: production dependencies and the compiled JavaScript (bin/tableport.js runs dist/
# when it is there: ~30 MB less memory per process than compiling TypeScript at start).
# Optional dependencies stay: they are the native engines, DuckDB's library (Parquet exports) and
# the embedded PostgreSQL (`docker run` without DATABASE_URL). TypeScript's native compiler comes
# in as the optional peer of bull-board's valibot and is never run: it is removed (27 MB).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data STORAGE_DIR=/data/files
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf node_modules/@typescript node_modules/typescript
COPY bin ./bin
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/tableport.js"]
CMD ["all"]
