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
# --omit=optional: TypeScript would come in as an optional peer of bull-board's valibot, and
# msgpackr-extract is a decoder BullMQ never calls (docs/dependencies.md).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/tableport.js"]
CMD ["all"]
