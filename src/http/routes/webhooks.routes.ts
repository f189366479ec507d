import { Router } from 'express';
import { parsePageQuery } from '../../contracts/paging.js';
import { parseRequest } from '../../contracts/parse.js';
import { WebhookCreateSchema } from '../../contracts/webhooks.js';
import type { Services } from '../../services/index.js';
import { currentUser } from '../middleware/auth.middleware.js';

export function webhooksRouter(s: Services): Router {
  const r = Router();
  r.post('/webhooks', async (req, res) => {
    res.status(201).json(await s.webhooks.create(currentUser(res).id, parseRequest(WebhookCreateSchema, req.body ?? {})));
  });
  r.get('/webhooks', async (_req, res) => {
    res.json(await s.webhooks.list(currentUser(res).id));
  });
  r.delete('/webhooks/:id', async (req, res) => {
    await s.webhooks.remove(currentUser(res).id, req.params.id);
    res.status(204).end();
  });
  r.get('/webhooks/:id/deliveries', async (req, res) => {
    res.json(
      await s.webhooks.deliveries(
        currentUser(res).id,
        req.params.id,
        parsePageQuery(req.query),
        `${req.baseUrl}/webhooks/${req.params.id}/deliveries`,
      ),
    );
  });
  return r;
}
