# One image for both roles; docker-compose.yml runs it as `api` and as `worker`.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The image runs the TypeScript sources through tsx; it needs neither dev dependencies nor the SDK build.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/tableport.js"]
CMD ["all"]
