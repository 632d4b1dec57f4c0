// Makes a Stripe account sell Pacer's plans: one product per paid plan (id `pacer_<plan>`) and one
// monthly price per product (lookup key `pacer_<plan>_monthly`), created or brought in line with
// public.plans. Idempotent: a second run with nothing changed only reads. Prices are immutable in
// Stripe, so a new amount becomes a new price that takes over the lookup key, and the old one is archived.
import type Stripe from "stripe";
import { lookupKeyFor, paidPlans, productIdFor, type Plan } from "./plans";

export interface CatalogChange {
  planId: string;
  productId: string;
  lookupKey: string;
  product: "created" | "updated" | "unchanged";
  price: "created" | "replaced" | "unchanged";
  priceId: string;
}

const CURRENCY = "usd";

function wantedProduct(plan: Plan) {
  return {
    name: `Pacer ${plan.name}`,
    description: `Publish to up to ${plan.maxAccounts} social accounts.`,
    metadata: { pacer_plan: plan.id, max_accounts: String(plan.maxAccounts) },
  };
}

const isMissing = (error: unknown) => (error as { code?: string })?.code === "resource_missing";

async function syncProduct(stripe: Stripe, plan: Plan): Promise<CatalogChange["product"]> {
  const id = productIdFor(plan.id);
  const wanted = wantedProduct(plan);
  const product = await stripe.products.retrieve(id).catch((error) => {
    if (isMissing(error)) return null;
    throw error;
  });
  if (!product) {
    await stripe.products.create({ id, ...wanted });
    return "created";
  }
  const same =
    product.active &&
    product.name === wanted.name &&
    product.description === wanted.description &&
    Object.entries(wanted.metadata).every(([k, v]) => product.metadata?.[k] === v);
  if (same) return "unchanged";
  await stripe.products.update(id, { ...wanted, active: true });
  return "updated";
}

async function syncPrice(stripe: Stripe, plan: Plan): Promise<{ change: CatalogChange["price"]; priceId: string }> {
  const lookupKey = lookupKeyFor(plan.id);
  const productId = productIdFor(plan.id);
  const { data } = await stripe.prices.list({ lookup_keys: [lookupKey], limit: 1 });
  const current = data[0];
  const currentProduct = typeof current?.product === "string" ? current.product : current?.product?.id;
  if (
    current?.active &&
    current.unit_amount === plan.priceCents &&
    current.currency === CURRENCY &&
    current.recurring?.interval === "month" &&
    current.recurring.interval_count === 1 &&
    currentProduct === productId
  ) {
    await archiveOtherPrices(stripe, plan, current.id);
    return { change: "unchanged", priceId: current.id };
  }
  const created = await stripe.prices.create({
    product: productId,
    currency: CURRENCY,
    unit_amount: plan.priceCents,
    recurring: { interval: "month" },
    lookup_key: lookupKey,
    // Moves the lookup key from the old price, so checkout picks the new one from now on.
    transfer_lookup_key: true,
    nickname: `${plan.name} monthly`,
    metadata: { pacer_plan: plan.id },
  });
  await archiveOtherPrices(stripe, plan, created.id);
  return { change: current ? "replaced" : "created", priceId: created.id };
}

/**
 * Archives every active price Pacer made for the plan except `keep`. Run on every sync, so a run
 * that stopped between moving the lookup key and archiving the old price is finished by the next.
 */
async function archiveOtherPrices(stripe: Stripe, plan: Plan, keep: string) {
  const { data } = await stripe.prices.list({ product: productIdFor(plan.id), active: true, limit: 100 });
  for (const price of data) {
    if (price.id !== keep && price.metadata?.pacer_plan === plan.id) await stripe.prices.update(price.id, { active: false });
  }
}

/** Creates or updates the catalogue for every paid plan, in plan order. */
export async function syncStripeCatalog(stripe: Stripe, plans: Plan[]): Promise<CatalogChange[]> {
  const changes: CatalogChange[] = [];
  for (const plan of paidPlans(plans)) {
    const product = await syncProduct(stripe, plan);
    const price = await syncPrice(stripe, plan);
    changes.push({
      planId: plan.id,
      productId: productIdFor(plan.id),
      lookupKey: lookupKeyFor(plan.id),
      product,
      price: price.change,
      priceId: price.priceId,
    });
  }
  return changes;
}
